"""The staff workflow between confirmation and answer: verify, assign, match, write, extend, refuse."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import Actor, audit_record
from core.events import subject_restricted

from .. import deadlines
from ..errors import DeadlineRuleBroken, WrongState
from ..models import ProcessingRestriction, RecipientNotice, RequestToken
from .base import (
    Action,
    Request,
    Status,
    _event,
    _mark_received,
    _require_open,
    _require_text,
    _save,
    _send_later,
)


def request_verify_manually(
    *, request: Request, actor: Actor, note: str, receipt: str = "received"
) -> Request:
    """Staff checked the person's identity another way (Art. 12(6)); the note says how.

    ``receipt`` is the email that tells the person the month runs: "received" for a
    request they sent us, "registered" for one we wrote down for them (phone, letter).
    """
    note = _require_text(note, "note", _("Say how the identity was checked."))
    with transaction.atomic():
        request = Request.objects.select_for_update().get(pk=request.pk)
        if request.status in Request.CLOSED:
            raise WrongState(_("This request is already closed."))
        previous = request.status
        if request.status == Status.RECEIVED:
            _mark_received(request, at=timezone.now())
            _send_later(request, receipt, link=RequestToken.Purpose.STATUS)
        _event(request, Action.VERIFIED_MANUALLY, actor, from_status=previous, note=note)
        audit_record(actor=actor, action="dsar.verify_manually", target=request, fields=["status"])
    return request


def request_assign(*, request: Request, assignee: AbstractBaseUser | None, actor: Actor) -> Request:
    if assignee is not None and not assignee.is_staff:
        raise ValidationError({"assignee": _("Only staff can be assigned a request.")})
    with transaction.atomic():
        request.assignee = assignee
        _save(request, ["assignee"])
        _event(request, Action.ASSIGNED, actor, note=str(assignee or "-"))
        audit_record(actor=actor, action="dsar.assign", target=request, fields=["assignee"])
    return request


def request_match_confirm(*, request: Request, contacts: list[Any], actor: Actor) -> Request:
    """Staff confirm which records in the register belong to the requester."""
    with transaction.atomic():
        request.contacts.set(contacts)
        request.match_confirmed_at = timezone.now()
        _save(request, ["match_confirmed_at"])
        _event(request, Action.MATCHED, actor, note=", ".join(str(c.pk) for c in contacts))
        audit_record(actor=actor, action="dsar.match", target=request, fields=["contacts"])
    return request


def request_message(*, request: Request, actor: Actor, message: str, wait_for_reply: bool = False) -> Request:
    """Write to the person; shown on the status page and emailed."""
    message = _require_text(message, "message", _("Write the message."))
    with transaction.atomic():
        request = Request.objects.select_for_update().get(pk=request.pk)
        _require_open(request)
        previous = request.status
        request.status = Status.WAITING if wait_for_reply else Status.IN_PROGRESS
        _save(request, ["status"])
        event = _event(
            request, Action.WAITING if wait_for_reply else Action.MESSAGE, actor,
            from_status=previous, message=message,
        )  # fmt: skip
        audit_record(actor=actor, action="dsar.message", target=request, fields=["status"])
        _send_later(request, "message", link=RequestToken.Purpose.STATUS, event=event)
    return request


def request_extend(*, request: Request, months: int, reason: str, actor: Actor) -> Request:
    """Art. 12(3): extend by further months, at most two in all, announced before the first deadline."""
    reason = _require_text(reason, "reason", _("Give the reason for the extension; the person is told."))
    with transaction.atomic():
        request = Request.objects.select_for_update().get(pk=request.pk)
        _require_open(request)
        if months < 1:
            raise ValidationError({"months": _("Extend by one or two months.")})
        total = request.extension_months + months
        if total > deadlines.MAX_EXTENSION_MONTHS:
            raise DeadlineRuleBroken(
                _("The deadline can be extended by at most two further months in all (Art. 12(3)).")
            )
        # The person must hear of the extension within the first month.
        if deadlines.today() > request.first_due_date:
            raise DeadlineRuleBroken(
                _("The first deadline has passed; an extension had to be announced before it (Art. 12(3)).")
            )
        request.extension_months = total
        request.due_date = deadlines.extended_deadline(request.received_at, months=total)
        request.extension_reason = reason
        request.reminded_due_soon_at = None
        _save(request, ["extension_months", "due_date", "extension_reason", "reminded_due_soon_at"])
        event = _event(request, Action.EXTENDED, actor, note=reason, message=reason)
        audit_record(
            actor=actor, action="dsar.extend", target=request, fields=["due_date", "extension_reason"]
        )
        _send_later(request, "extended", link=RequestToken.Purpose.STATUS, event=event)
    return request


def request_refuse(*, request: Request, reason: str, actor: Actor) -> Request:
    """Art. 12(4): the refusal carries its reason and the right to complain to Datatilsynet."""
    reason = _require_text(reason, "reason", _("Give the reason for the refusal; the person is told."))
    with transaction.atomic():
        request = Request.objects.select_for_update().get(pk=request.pk)
        if request.status in Request.CLOSED:
            raise WrongState(_("This request is already closed."))
        previous = request.status
        request.status, request.refusal_reason, request.closed_at = Status.REFUSED, reason, timezone.now()
        _save(request, ["status", "refusal_reason", "closed_at"])
        event = _event(request, Action.REFUSED, actor, from_status=previous, note=reason, message=reason)
        audit_record(actor=actor, action="dsar.refuse", target=request, fields=["status", "refusal_reason"])
        _send_later(request, "refused", link=RequestToken.Purpose.STATUS, event=event)
    return request


def recipient_notice_mark_told(
    *,
    notice: RecipientNotice,
    actor: Actor,
    user: AbstractBaseUser | None,
    channel: str = RecipientNotice.Channel.MANUAL,
) -> None:
    """Art. 19: record that this recipient was told of the rectification or erasure.

    ``channel="api"`` when a signed webhook was acknowledged with a 2xx (api.webhooks).
    """
    with transaction.atomic():
        updated = RecipientNotice.objects.filter(pk=notice.pk, told_at=None).update(
            told_at=timezone.now(), told_by=user, channel=channel
        )
        if updated:
            _event(notice.request, Action.RECIPIENT_TOLD, actor, note=notice.recipient)
            audit_record(actor=actor, action="dsar.recipient_told", target=notice, fields=["told_at"])


def restriction_lift(
    *, restriction: ProcessingRestriction, reason: str, actor: Actor
) -> ProcessingRestriction:
    """Art. 18(3): lifting is recorded with its reason (the person is told before it is lifted)."""
    reason = _require_text(reason, "reason", _("Give the reason for lifting it."))
    with transaction.atomic():
        restriction.lifted_at, restriction.lift_reason = timezone.now(), reason
        restriction.full_clean()
        restriction.save(update_fields=["lifted_at", "lift_reason"])
        audit_record(actor=actor, action="dsar.restriction_lift", target=restriction, fields=["lifted_at"])
        if restriction.kind == ProcessingRestriction.Kind.RESTRICTION:
            from rights.selectors import recipients_for
            from subjects.models import Contact

            contact_ids = list(Contact.objects.filter(email=restriction.email).values_list("pk", flat=True))
            subject_restricted.send(
                sender=ProcessingRestriction, email=restriction.email, contact_ids=contact_ids,
                request_id=restriction.request_id, lifted=True,
                recipients=recipients_for(emails=[restriction.email]),
            )  # fmt: skip
    return restriction
