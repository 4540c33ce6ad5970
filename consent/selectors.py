from __future__ import annotations

from core.crypto import email_hash

from .models import SuppressionEntry


def email_is_suppressed(*, email: str) -> bool:
    return SuppressionEntry.objects.filter(
        email_hash=email_hash(email, purpose=SuppressionEntry.SUPPRESSION_PURPOSE)
    ).exists()
