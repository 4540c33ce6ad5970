from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from core.crypto import email_hash
from core.registry import Erasure, PersonalData, registry

from .models import SuppressionEntry

registry.register(
    PersonalData(
        model=SuppressionEntry,
        category="suppression",
        description=_("A keyed hash of your address, so that we never contact you again"),
        personal_fields=("email_hash",),
        not_personal_fields=("reason", "created_at"),
        # Found by hashing the address, not by the address itself.
        find_rows=lambda emails: SuppressionEntry.objects.filter(
            email_hash__in=[email_hash(e, purpose=SuppressionEntry.SUPPRESSION_PURPOSE) for e in emails]
        ),
        purposes=("honour_objection",),
        source=_("Your opt-out, objection or erasure request"),
        erasure=Erasure.KEEP,
        kept_because=_(
            "Kept after erasure so that a later import cannot subscribe you again (Art. 21(3) and 17)."
        ),
    )
)
