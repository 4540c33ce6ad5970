"""Why data is kept after an erasure (Art. 17(3)), in words for the answer to the person."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

# For declarations with ``must_keep=core.registry.accounting_records("...")``.
ACCOUNTING_KEPT_BECAUSE = _(
    "Accounting records are kept for five years after the end of the financial year, as the "
    "Bookkeeping Act requires (bokføringsloven § 13; GDPR Art. 17(3)(b))."
)
LEGAL_HOLD_KEPT_BECAUSE = _(
    "Kept under a legal hold, for the establishment, exercise or defence of legal claims "
    "(GDPR Art. 17(3)(e))."
)
REFERENCED_BY_KEPT = _("Kept because records that must be kept refer to it.")
