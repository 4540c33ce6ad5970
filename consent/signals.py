"""Deleting a contact erases its consent ledger too (Art. 17), through the one way allowed; a change
of the register's own facts moves the stored decision of the consent check (``ConsentDecision``)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import receiver

from core.removal.signals import rows_removing
from subjects.models import Contact, Organisation

from .models import CustomerAddressRecord, ledger_erasure_allow


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


# The facts of the register that the consent check reads (consent.services.decisions).
_CONTACT_FACTS = frozenset({"email", "email_kind", "source_type", "source_attests_consent", "organisation"})
_ORGANISATION_FACTS = frozenset({"is_customer", "customer_contract_ends"})


@receiver(post_save, sender=Contact, dispatch_uid="consent_decision_contact_saved")
def contact_saved_moves_decision(
    sender: type[Contact], instance: Contact, created: bool, update_fields: Any = None, **kwargs: Any
) -> None:
    if update_fields is not None and not (_CONTACT_FACTS & set(update_fields)):
        return
    from .services.decisions import decisions_refresh

    decisions_refresh(contact_ids=[instance.pk])


@receiver(post_save, sender=Organisation, dispatch_uid="consent_decision_organisation_saved")
def organisation_saved_moves_decision(
    sender: type[Organisation],
    instance: Organisation,
    created: bool,
    update_fields: Any = None,
    **kwargs: Any,
) -> None:
    if created or (update_fields is not None and not (_ORGANISATION_FACTS & set(update_fields))):
        return
    from .services.decisions import decisions_refresh

    decisions_refresh(contact_ids=Contact.objects.filter(organisation=instance).values_list("pk", flat=True))


@receiver(rows_removing, sender=CustomerAddressRecord, dispatch_uid="consent_decision_sale_record_removed")
def sale_record_removed_moves_decision(
    sender: type[CustomerAddressRecord], rows: QuerySet, **kwargs: Any
) -> Any:
    """The record of a sale is what clears an address under § 15(2); the removal engine deleting it
    (retention, the admin) must move the decision with it, or the check keeps clearing the address."""
    from .services.decisions import decisions_refresh

    # Read now: once the engine has deleted the rows, they name no one.
    contact_ids = list(rows.order_by().values_list("contact_id", flat=True))
    return lambda: decisions_refresh(contact_ids=contact_ids)
