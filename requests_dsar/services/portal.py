"""What the person does in the portal: submit, confirm, withdraw, download (Art. 12)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import Actor, audit_record
from core.validators import clean_email

from ..errors import LinkInvalid, LinkUsed, WrongState
from ..models import RequestToken
from .base import (
    DETAILS_MAX_LENGTH,
    Action,
    Request,
    Status,
    Type,
    _event,
    _mark_received,
    _save,
    _send_later,
    _validate,
)
from .tokens import _token_row
from .workflow import request_verify_manually


def _new_reference() -> str:
    # Opaque and unguessable enough to name in an email; never derived from the person.
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "DSR-" + "".join(secrets.choice(alphabet) for _ in range(8))


@dataclass(frozen=True)
class Submission:
    request: Request
    created: bool


def request_submit(
    *,
    type: str,
    email: str,
    name: str = "",
    organisation: str = "",
    details: str = "",
    language: str = "nb",
    identity_checked: str = "",
    actor: Actor,
) -> Submission:
    """Record a request and email the confirmation link (Art. 12(6): we check it is the person).

    A repeat of a request still waiting or open creates nothing new: the person
    gets another link by email. The response is the same either way, and the
    same whether or not we know the address, so it tells nobody anything.

    ``identity_checked`` says how the identity was already checked where the
    request came in (a call-back, a letter with ID, the support desk): the request
    is then verified at once with that note, its month runs from now (Art. 12(3)),
    and the person is emailed a receipt, not a link to confirm what was checked.
    """
    errors: dict[str, str] = {}
    if type not in Type.values:
        errors["type"] = _("Choose one of the kinds of request in the list.")
    try:
        email = clean_email(email)
    except ValidationError as error:
        errors["email"] = error.messages[0]
    if len(details or "") > DETAILS_MAX_LENGTH:
        errors["details"] = _("Please keep the text under %(n)d characters.") % {"n": DETAILS_MAX_LENGTH}
    if errors:
        raise ValidationError(errors)
    language = language if language in {"nb", "en"} else "nb"
    with transaction.atomic():
        repeat = (
            Request.objects.select_for_update()
            .filter(email=email, type=type, status__in=[Status.RECEIVED, *Request.OPEN])
            .filter(submitted_at__gte=timezone.now() - timedelta(days=90))
            .order_by("-submitted_at")
            .first()
        )
        if repeat is not None:
            _event(repeat, Action.REPEATED, actor)
            audit_record(actor=actor, action="dsar.repeat", target=repeat)
            if repeat.status == Status.RECEIVED and identity_checked:
                repeat = _checked_elsewhere(repeat, actor, identity_checked)
            elif repeat.status == Status.RECEIVED:
                _send_later(repeat, "verify", link=RequestToken.Purpose.VERIFY)
            else:
                _send_later(repeat, "repeat", link=RequestToken.Purpose.STATUS)
            return Submission(repeat, created=False)
        request = Request(
            reference=_new_reference(),
            type=type,
            email=email,
            name=(name or "").strip()[:200],
            organisation=(organisation or "").strip()[:200],
            details=(details or "").strip(),
            language=language,
        )
        _validate(request)
        request.save()
        _event(request, Action.SUBMITTED, actor, from_status="-")
        audit_record(
            actor=actor,
            action="dsar.submit",
            target=request,
            fields=["type", "email", "name", "organisation", "details"],
        )
        if identity_checked:
            request = _checked_elsewhere(request, actor, identity_checked)
        else:
            _send_later(request, "verify", link=RequestToken.Purpose.VERIFY)
    return Submission(request, created=True)


def _checked_elsewhere(request: Request, actor: Actor, note: str) -> Request:
    return request_verify_manually(request=request, actor=actor, note=note, receipt="registered")


def request_verify(*, token: str, actor: Actor) -> Request:
    """Follow the emailed link: the request counts from now (Art. 12(3)). Single use."""
    with transaction.atomic():
        row = _token_row(token, RequestToken.Purpose.VERIFY, lock=True)
        now = timezone.now()
        claimed = RequestToken.objects.filter(pk=row.pk, used_at=None).update(used_at=now)
        if claimed != 1:
            raise LinkUsed(_("This link has already been used. Each confirmation link works only once."))
        request = row.request  # locked with the link by _token_row
        if request.status == Status.RECEIVED:
            _mark_received(request, at=now)
            _event(request, Action.VERIFIED, actor, from_status=Status.RECEIVED)
            audit_record(actor=actor, action="dsar.verify", target=request, fields=["status"])
            _send_later(request, "received", link=RequestToken.Purpose.STATUS)
    return request


def request_withdraw(*, request: Request, actor: Actor) -> Request:
    with transaction.atomic():
        request = Request.objects.select_for_update().get(pk=request.pk)
        if request.status in Request.CLOSED:
            raise WrongState(_("This request is already closed."))
        previous, request.status, request.closed_at = request.status, Status.WITHDRAWN, timezone.now()
        _save(request, ["status", "closed_at"])
        _event(request, Action.WITHDRAWN, actor, from_status=previous)
        audit_record(actor=actor, action="dsar.withdraw", target=request, fields=["status"])
        _send_later(request, "withdrawn")
    return request


def request_download_link_send(*, request: Request, actor: Actor) -> None:
    """Email a fresh, short-lived download link; the answer is never reachable otherwise."""
    if not request.answer_file or request.redacted_at:
        raise WrongState(_("There is no answer to download for this request."))
    with transaction.atomic():
        _event(request, Action.DOWNLOAD_LINK, actor)
        _send_later(request, "download", link=RequestToken.Purpose.DOWNLOAD)


def request_download(*, token: str, actor: Actor) -> Request:
    """Check a download link and record the download (who, when, from where)."""
    with transaction.atomic():
        row = _token_row(token, RequestToken.Purpose.DOWNLOAD)
        request = row.request
        if not request.answer_file or request.redacted_at:
            raise LinkInvalid(_("There is no answer to download for this request."))
        _event(request, Action.DOWNLOADED, actor, note=actor.ip_address or "")
        audit_record(actor=actor, action="dsar.download", target=request, fields=["answer_file"])
    return request
