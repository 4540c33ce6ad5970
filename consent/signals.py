"""Deleting a contact erases its consent ledger too (Art. 17), through the one way allowed."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, pre_delete
from django.dispatch import receiver

from subjects.models import Contact

from .models import ledger_erasure_allow


@receiver(pre_delete, sender=Contact, dispatch_uid="consent_ledger_erasure_on")
def contact_deleted_erases_ledger(
    sender: type[Contact], instance: Contact, using: str, **kwargs: Any
) -> None:
    # Django deletes the contact's ledger rows (CASCADE) inside the deletion's
    # transaction, after this signal; the trigger lets them through only while
    # the transaction-local erasure setting is on.
    ledger_erasure_allow(using)


@receiver(post_delete, sender=Contact, dispatch_uid="consent_ledger_erasure_off")
def contact_deleted_erasure_done(sender: type[Contact], instance: Contact, using: str, **kwargs: Any) -> None:
    ledger_erasure_allow(using, on=False)
