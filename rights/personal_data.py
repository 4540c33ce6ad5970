from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from core.crypto import email_hash
from core.registry import Erasure, PersonalData, registry

from .models import ErasureJournalEntry

registry.register(
    PersonalData(
        model=ErasureJournalEntry,
        category="erasure_journal",
        description=_("A keyed hash of your address, recording that you were erased"),
        personal_fields=("email_hash",),
        not_personal_fields=("reference", "erased_at"),
        # Found by hashing the address, not by the address itself.
        find_rows=lambda emails: ErasureJournalEntry.objects.filter(
            email_hash__in=[email_hash(e, purpose=ErasureJournalEntry.HASH_PURPOSE) for e in emails]
        ),
        purposes=("honour_erasure",),
        source=_("Your erasure request"),
        erasure=Erasure.KEEP,
        kept_because=_(
            "Kept so that your erasure is carried out again if an older backup of our database is "
            "ever restored (Art. 17 and 5(1)(e)); it holds no address, only a keyed hash of it."
        ),
    )
)
