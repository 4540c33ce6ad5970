"""Why data is kept after an erasure (Art. 17(3)), in words for the answer to the person."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from core.removal import words

# For declarations with ``must_keep=core.registry.accounting_records("...")``.
ACCOUNTING_KEPT_BECAUSE = _(
    "Accounting records are kept for five years after the end of the financial year, as the "
    "Bookkeeping Act requires (bokføringsloven § 13; GDPR Art. 17(3)(b))."
)
# The engine's own reasons (core.removal.words), named here too for the rights app's readers.
LEGAL_HOLD_KEPT_BECAUSE = words.LEGAL_HOLD_KEPT_BECAUSE
REFERENCED_BY_KEPT = words.REFERENCED_BY_KEPT
