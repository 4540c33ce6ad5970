"""What retention itself holds, declared for the registry (core.registry)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from core.registry import Erasure, PersonalData, registry

from .models import LegalHold, RetentionPolicy, RetentionStatistic, SweepLock, SweepRun
from .selectors import held_rows

# Legal holds keep rows from every removal, whoever asks for it (core.removal).
registry.register_hold_source("legal_hold", held_rows)

registry.register(
    PersonalData(
        model=LegalHold,
        category="legal_hold",
        description=_("A hold that keeps your data from deletion while a legal claim is open"),
        personal_fields=("contact", "reason"),
        not_personal_fields=(
            "scope", "organisation", "category", "starts_on", "ends_on", "lifted_at", "placed_by",
            "created_at",
        ),
        export_fields=("reason", "starts_on", "ends_on", "lifted_at"),
        subject_email_path="contact__email",
        purposes=("legal_claims",),
        source=_("Recorded by our privacy officer"),
        retention_anchor="ends_on",
        retention_note=_("As long as the claim it guards is open"),
        # Art. 17(3)(e): data needed for legal claims is exempt from erasure.
        erasure=Erasure.KEEP,
        kept_because=_("Kept while a legal claim is open (Art. 17(3)(e))."),
    )
)  # fmt: skip
registry.register_not_personal(RetentionPolicy, reason="How long each category is kept; no person in it.")
registry.register_not_personal(
    SweepRun, reason="Counts, ids and error kinds of each run; never removed data."
)
registry.register_not_personal(SweepLock, reason="Which sweep holds the lease.")
registry.register_not_personal(
    RetentionStatistic, reason="Counts per month, organisation and relationship; nobody identifiable."
)
