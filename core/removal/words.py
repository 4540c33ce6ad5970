"""Why the removal engine kept a row, in words the person (and the privacy officer) reads."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

LEGAL_HOLD_KEPT_BECAUSE = _(
    "Kept under a legal hold, for the establishment, exercise or defence of legal claims "
    "(GDPR Art. 17(3)(e))."
)
REFERENCED_BY_KEPT = _("Kept because records that must be kept refer to it.")
GUARDED_KEPT_BECAUSE = _(
    "Kept while a request, a restriction or an objection about this person is being handled "
    "(GDPR Art. 12, 18 and 21)."
)
ACTIVE_CUSTOMER_KEPT_BECAUSE = _("Kept because the person represents an active customer.")
