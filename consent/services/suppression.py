"""The suppression list: opt-outs and objections that outlive erasure (Art. 21(3), 17)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from core.audit import Actor, audit_record
from core.crypto import email_hash
from core.events import suppression_added
from core.validators import normalise_email

from ..models import (
    SuppressionEntry,
)
from .decisions import decisions_refresh_for_email


def suppression_add(
    *, email: str, reason: str, actor: Actor, purposes: Iterable[str] = ()
) -> SuppressionEntry:
    """Put an address on the suppression list (idempotent; the first reason stays)."""
    digest = email_hash(email, purpose=SuppressionEntry.SUPPRESSION_PURPOSE)
    with transaction.atomic():
        entry, created = SuppressionEntry.objects.get_or_create(
            email_hash=digest, defaults={"reason": reason}
        )
        if created:
            audit_record(actor=actor, action="suppression.add", target=entry, fields=["email_hash", "reason"])
            suppression_added.send(sender=SuppressionEntry, email_hash=digest, purposes=list(purposes))
            # The stored decision of every contact with this address, in the same transaction.
            decisions_refresh_for_email(email=normalise_email(email))
    return entry
