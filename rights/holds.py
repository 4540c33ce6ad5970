"""Legal holds that stop an erasure (Art. 17(3)(e)), read from the retention app.

The retention app owns legal holds (retention.models.LegalHold: one contact,
an organisation's contacts, or a whole data category). Erasure asks here which
registered models are held for a person; nothing else in rights knows how a
hold is stored, so a change there is one change here.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.apps import apps
from django.db.models import Q

from core.registry import registry

# Every model of the person is held (a hold on the contact or its organisation).
EVERYTHING = "*"


def held_labels(*, emails: Sequence[str]) -> set[str]:
    """Labels of the registered models whose rows of these people are under an active legal hold.

    Contains ``EVERYTHING`` when a hold covers the person as a whole. One query,
    whatever the number of rows.
    """
    try:
        from retention import selectors as retention_selectors
    except ImportError:
        retention_selectors = None
    public = getattr(retention_selectors, "legal_holds_for_emails", None)
    if public is not None:
        # The retention app's own selector, when it offers one: {label or "*"}.
        return set(public(emails=list(emails)))
    if not apps.is_installed("retention"):
        return set()
    try:
        LegalHold = apps.get_model("retention", "LegalHold")
    except LookupError:
        return set()
    from subjects.models import Contact

    people = Contact.objects.filter(email__in=list(emails))
    holds = LegalHold.objects.active()
    held: set[str] = set()
    scopes = (
        holds.filter(Q(contact__in=people) | Q(organisation__contacts__in=people) | Q(scope="category"))
        .values_list("scope", "category")
        .distinct()
    )
    for scope, category in scopes:
        if scope == "category":
            held |= {d.label for d in registry.by_category(category)}
        else:
            held.add(EVERYTHING)
    return held
