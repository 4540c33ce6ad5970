"""Marketing Control Act § 15(2): addresses obtained in a sale, and who a campaign may reach."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import Actor, audit_record
from subjects.models import Contact

from .. import selectors
from ..models import (
    CustomerAddressRecord,
    MarketingClearance,
)
from .common import _save
from .decisions import decisions_refresh


def customer_address_record(
    *,
    contact: Contact,
    sale_reference: str,
    obtained_at: datetime,
    opt_out_offered: bool,
    actor: Actor,
) -> CustomerAddressRecord:
    """Record that the address was obtained in a sale, and whether an opt-out was offered then."""
    with transaction.atomic():
        record = CustomerAddressRecord.objects.filter(contact=contact).first() or CustomerAddressRecord(
            contact=contact
        )
        record.sale_reference = sale_reference
        record.obtained_at = obtained_at
        record.opt_out_offered = opt_out_offered
        _save(record)
        audit_record(
            actor=actor,
            action="customer_address.record",
            target=record,
            fields=["sale_reference", "obtained_at", "opt_out_offered"],
        )
        decisions_refresh(contact_ids=[contact.pk])
    return record


def consent_clearances_record(
    *, emails: Iterable[str], purpose_code: str, reference: str, actor: Actor
) -> dict[str, str]:
    """Ask who may receive a campaign, and record which basis cleared each contact.

    Returns {address: basis} like ``selectors.consent_clearances``; the rows
    are written in batches as the answer streams in.
    """
    if not reference.strip():
        raise ValidationError(_("Name the campaign, so that the record says what the clearance was for."))
    purpose = selectors.purpose_by_code(code=purpose_code)
    cleared: dict[str, str] = {}
    batch: list[MarketingClearance] = []
    now = timezone.now()
    with transaction.atomic():
        for contact_id, email, basis in selectors.consent_clearance_rows(
            emails=emails, purpose_code=purpose_code
        ):
            cleared[email] = basis
            batch.append(
                MarketingClearance(
                    contact_id=contact_id, purpose=purpose, basis=basis, reference=reference, checked_at=now
                )
            )
            if len(batch) >= 5000:
                MarketingClearance.objects.bulk_create(batch)
                batch = []
        MarketingClearance.objects.bulk_create(batch)
        audit_record(
            actor=actor,
            action="consent.clearances_record",
            target=purpose,
            fields=["contact", "basis", "reference"],
        )
    return cleared
