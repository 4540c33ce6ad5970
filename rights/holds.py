"""Legal holds that stop an erasure (Art. 17(3)(e)), asked of the retention app.

The retention app owns legal holds (one contact, an organisation's contacts,
or a whole data category) and offers them through its selectors
(``retention.selectors.held_contacts``, ``category_is_held``). Erasure asks
here which registered models are held for a person; nothing else in rights
knows how a hold is stored, so a change there is one change here. Without
the retention app (or those selectors), nothing is held.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.registry import registry

# Every model of the person is held (a hold on the contact or its organisation).
EVERYTHING = "*"


def held_labels(*, emails: Sequence[str]) -> set[str]:
    """Labels of the registered models whose rows of these people are under an active legal hold.

    Contains ``EVERYTHING`` when a hold covers the person as a whole (their
    contact record, or their organisation's contacts).
    """
    try:
        from retention import selectors as retention_selectors
    except ImportError:
        return set()
    held: set[str] = set()
    held_contacts = getattr(retention_selectors, "held_contacts", None)
    if held_contacts is not None and held_contacts().filter(email__in=list(emails)).exists():
        held.add(EVERYTHING)
    category_is_held = getattr(retention_selectors, "category_is_held", None)
    if category_is_held is not None:
        for category in registry.categories():
            if category_is_held(category):
                held |= {d.label for d in registry.by_category(category)}
    return held


def release_spent(*, emails: Sequence[str]) -> int:
    """Remove the holds on these people that have ended or been lifted.

    An active hold keeps the person (``held_labels``); a spent one only still
    points at the contact (PROTECT), and would stop the erasure for good. The
    retention sweep releases spent holds the same way before it deletes; the
    placing and lifting of each hold stay in the audit trail.
    """
    try:
        from retention.models import LegalHold
    except ImportError:
        return 0
    deleted, _ = LegalHold.objects.spent().filter(contact__email__in=list(emails)).delete()
    return deleted
