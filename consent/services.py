from __future__ import annotations

from django.db import transaction

from core.audit import Actor, audit_record
from core.crypto import email_hash

from .models import SuppressionEntry


def suppression_add(*, email: str, reason: str, actor: Actor) -> SuppressionEntry:
    """Put an address on the suppression list (idempotent; the first reason stays)."""
    with transaction.atomic():
        entry, created = SuppressionEntry.objects.get_or_create(
            email_hash=email_hash(email, purpose=SuppressionEntry.SUPPRESSION_PURPOSE),
            defaults={"reason": reason},
        )
        if created:
            audit_record(actor=actor, action="suppression.add", target=entry, fields=["email_hash", "reason"])
    return entry
