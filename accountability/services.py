"""Writes to the accountability registers; every door (admin, receiver, task) calls these."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from core.audit import Actor, audit_record
from core.mail import send_email
from core.registry import registry

from . import selectors
from .models import Disclosure, Recipient

# --- Recipients (Art. 28, Art. 30(1)(d)-(e)) ---------------------------------------------------


def recipient_create(*, actor: Actor, **values: Any) -> Recipient:
    recipient = Recipient(**values)
    recipient.full_clean()
    with transaction.atomic():
        recipient.save()
        audit_record(actor=actor, action="recipient.create", target=recipient, fields=values.keys())
    return recipient


def recipient_update(*, actor: Actor, recipient: Recipient, changes: dict[str, Any]) -> Recipient:
    for name, value in changes.items():
        setattr(recipient, name, value)
    recipient.full_clean()
    with transaction.atomic():
        recipient.save()
        audit_record(actor=actor, action="recipient.update", target=recipient, fields=changes.keys())
    return recipient


def recipients_send_reminders() -> dict[str, int]:
    """Tell the privacy officer of agreements due for review soon, and of transfers without a mechanism.

    A review reminder goes out once per review date (claimed by a conditional
    UPDATE), so running the job twice a day sends nothing twice. Transfers
    without a Chapter V ground are listed every time the job runs: they are
    unlawful until fixed (Art. 44).
    """
    today_ = timezone.localdate()
    due = list(selectors.recipients_review_due(today=today_).order_by("dpa_next_review", "code"))
    claimed = [
        r
        for r in due
        if Recipient.objects.filter(pk=r.pk)
        .exclude(reminded_review_for=r.dpa_next_review)
        .update(reminded_review_for=r.dpa_next_review)
    ]
    unlawful = list(selectors.recipients_transfer_without_mechanism().order_by("code"))
    if claimed or unlawful:
        send_email(
            "accountability-recipients",
            {"reviews": claimed, "transfers": unlawful, "today": today_},
            to=settings.PRIVACY_OFFICER_EMAIL,
            language=settings.LANGUAGE_CODE,
        )
    return {"reviews": len(claimed), "transfers": len(unlawful)}


# --- Disclosures (Art. 15(1)(c), Art. 30(1)(d)) ------------------------------------------------


def disclosure_record(
    *,
    recipient: str | Recipient,
    contact_ids: Iterable[int],
    categories: Iterable[str],
    purpose: str = "",
    channel: str,
    reason: str = "",
    actor: Actor,
    disclosed_at: datetime | None = None,
) -> list[Disclosure]:
    """One row per person whose data left for ``recipient``; in the caller's transaction.

    The recipient must be in the register: a disclosure to someone unknown is
    exactly what the register exists to prevent, so it fails the sender.
    """
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    if not isinstance(recipient, Recipient):
        found = Recipient.objects.filter(code=recipient).first()
        if found is None:
            raise ValidationError(_("The recipient is not in the register of recipients."), code="unknown")
        recipient = found
    known = set(registry.categories())
    categories = sorted(set(categories))
    unknown = [c for c in categories if c not in known]
    if unknown:
        raise ValidationError(_("Unknown data category: %(codes)s.") % {"codes": ", ".join(unknown)})
    if channel not in Disclosure.Channel.values:
        raise ValidationError(_("Unknown channel."))
    user = None
    if actor.kind == "staff" and actor.id:
        user = get_user_model().objects.filter(pk=actor.id).first()
    when = disclosed_at or timezone.now()
    rows = [
        Disclosure(
            recipient=recipient,
            contact_id=contact_id,
            categories=categories,
            purpose=purpose,
            channel=channel,
            reason=reason[:500],
            disclosed_at=when,
            recorded_by=user,
        )
        for contact_id in sorted(set(contact_ids))
    ]
    with transaction.atomic():
        created = Disclosure.objects.bulk_create(rows)
        for row in created:
            audit_record(actor=actor, action="disclosure.record", target=row)
    return created
