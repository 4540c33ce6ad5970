"""Writes of the request workflow: from submission through verification to the answer.

Every service validates, writes in one transaction, records the step in the
request's history and in the audit trail, and sends email from a Celery task
after commit (so the mail server's speed never shows in a portal response).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.audit import Actor, audit_record
from core.crypto import new_token, token_digest, token_matches
from core.mail import send_email
from core.registry import registry
from core.validators import clean_email, normalise_email

from . import deadlines
from .errors import (
    DeadlineRuleBroken,
    LinkExpired,
    LinkInvalid,
    LinkUsed,
    RightsEngineMissing,
    WrongState,
)
from .models import (
    DataSubjectRequest,
    ProcessingRestriction,
    RecipientNotice,
    RequestEmail,
    RequestEvent,
    RequestToken,
)

Request = DataSubjectRequest
Status = DataSubjectRequest.Status
Type = DataSubjectRequest.Type
Action = RequestEvent.Action
DETAILS_MAX_LENGTH = 5000


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def link_lifetime(purpose: str) -> timedelta:
    if purpose == RequestToken.Purpose.VERIFY:
        return timedelta(hours=_setting("DSAR_VERIFY_LINK_HOURS", 48))
    if purpose == RequestToken.Purpose.DOWNLOAD:
        return timedelta(hours=_setting("DSAR_DOWNLOAD_LINK_HOURS", 72))
    return timedelta(days=_setting("DSAR_STATUS_LINK_DAYS", 120))


def _new_reference() -> str:
    # Opaque and unguessable enough to name in an email; never derived from the person.
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "DSR-" + "".join(secrets.choice(alphabet) for _ in range(8))


def _event(
    request: Request,
    action: str,
    actor: Actor,
    *,
    from_status: str = "",
    note: str = "",
    message: str = "",
    user: AbstractBaseUser | None = None,
) -> RequestEvent:
    if user is None and actor.kind == "staff" and actor.id:
        user_id = int(actor.id)
    else:
        user_id = getattr(user, "pk", None)
    return RequestEvent.objects.create(
        request=request,
        action=action,
        actor_kind=actor.kind,
        actor_id=user_id,
        from_status=from_status,
        to_status=request.status if from_status else "",
        note=note,
        message=message,
    )


def _save(request: Request, fields: list[str]) -> None:
    request.full_clean(exclude=["contacts"])
    request.save(update_fields=fields)


def _send_later(
    request: Request, kind: str, *, link: str = "", event: RequestEvent | None = None, redact: bool = False
) -> None:
    from .tasks import request_email_send

    request_id, event_id = request.pk, getattr(event, "pk", None)
    transaction.on_commit(lambda: request_email_send.delay(request_id, kind, link, event_id, redact))


def _require_open(request: Request) -> None:
    if request.status not in Request.OPEN:
        raise WrongState(_("Only a confirmed request that is not closed can be handled."))


def _require_text(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    return value


# --- the portal -------------------------------------------------------------------


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
    actor: Actor,
) -> Submission:
    """Record a request and email the confirmation link (Art. 12(6): we check it is the person).

    A repeat of a request still waiting or open creates nothing new: the person
    gets another link by email. The response is the same either way, and the
    same whether or not we know the address, so it tells nobody anything.
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
            if repeat.status == Status.RECEIVED:
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
        request.full_clean(exclude=["contacts"])
        request.save()
        _event(request, Action.SUBMITTED, actor, from_status="-")
        audit_record(
            actor=actor,
            action="dsar.submit",
            target=request,
            fields=["type", "email", "name", "organisation", "details"],
        )
        _send_later(request, "verify", link=RequestToken.Purpose.VERIFY)
    return Submission(request, created=True)


def request_token_issue(*, request: Request, purpose: str) -> str:
    """A new link for the person: the token is returned once and stored only as its digest."""
    token = new_token()
    RequestToken.objects.create(
        request=request,
        purpose=purpose,
        digest=token_digest(token),
        expires_at=timezone.now() + link_lifetime(purpose),
    )
    return token


def _token_row(token: str, purpose: str, *, lock: bool = False) -> RequestToken:
    if not token or len(token) > 100:
        raise LinkInvalid(_("This link is not valid. Please use the newest link we sent you."))
    rows = RequestToken.objects.select_related("request")
    if lock:
        rows = rows.select_for_update(of=("self",))
    row = rows.filter(digest=token_digest(token), purpose=purpose).first()
    # The lookup is by digest; the comparison that decides is constant time.
    if row is None or not token_matches(token, row.digest):
        raise LinkInvalid(_("This link is not valid. Please use the newest link we sent you."))
    if row.used_at is not None:
        raise LinkUsed(_("This link has already been used. Each confirmation link works only once."))
    if row.expires_at <= timezone.now():
        raise LinkExpired(_("This link has expired. Please ask again, and we will send you a new link."))
    return row


def request_link_check(*, token: str, purpose: str) -> Request:
    """The request a link leads to, without using the link up."""
    return _token_row(token, purpose).request


def _mark_received(request: Request, *, at: datetime) -> None:
    request.status = Status.VERIFIED
    request.received_at = at
    request.first_due_date = request.due_date = deadlines.first_deadline(at)
    _save(request, ["status", "received_at", "first_due_date", "due_date"])
    # Propose the person's records; staff confirm the match.
    from subjects.models import Contact

    # Addresses are stored lower-cased, so an exact match uses the index (iexact
    # would scan every contact).
    matched = Contact.objects.filter(email=normalise_email(request.email)).values_list("pk", flat=True)
    request.contacts.add(*matched)


def request_verify(*, token: str, actor: Actor) -> Request:
    """Follow the emailed link: the request counts from now (Art. 12(3)). Single use."""
    with transaction.atomic():
        row = _token_row(token, RequestToken.Purpose.VERIFY, lock=True)
        now = timezone.now()
        claimed = RequestToken.objects.filter(pk=row.pk, used_at=None).update(used_at=now)
        if claimed != 1:
            raise LinkUsed(_("This link has already been used. Each confirmation link works only once."))
        request = Request.objects.select_for_update().get(pk=row.request_id)
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


# --- the staff workflow -----------------------------------------------------------


def request_verify_manually(*, request: Request, actor: Actor, note: str) -> Request:
    """Staff checked the person's identity another way (Art. 12(6)); the note says how."""
    note = _require_text(note, "note", _("Say how the identity was checked."))
    with transaction.atomic():
        request = Request.objects.select_for_update().get(pk=request.pk)
        if request.status in Request.CLOSED:
            raise WrongState(_("This request is already closed."))
        previous = request.status
        if request.status == Status.RECEIVED:
            _mark_received(request, at=timezone.now())
            _send_later(request, "received", link=RequestToken.Purpose.STATUS)
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


def request_subject_emails(request: Request) -> list[str]:
    """The requester's address and those of the records staff matched to them."""
    emails = {normalise_email(request.email)} if request.email else set()
    emails |= {normalise_email(e) for e in request.contacts.values_list("email", flat=True)}
    return sorted(emails)


def _rights(name: str) -> Any:
    # The rights engine is its own app; imported late so the portal works without it.
    try:
        module_name, function = name.rsplit(".", 1)
        module = __import__(f"rights.{module_name}", fromlist=[function])
        return getattr(module, function)
    except (ImportError, AttributeError):
        raise RightsEngineMissing(
            _("The rights engine is not installed; this request cannot be completed yet.")
        ) from None


def _close(request: Request, actor: Actor, *, answer: str, previous: str) -> RequestEvent:
    request.status, request.answer, request.closed_at = Status.COMPLETED, answer, timezone.now()
    _save(request, ["status", "answer", "closed_at"])
    event = _event(request, Action.COMPLETED, actor, from_status=previous, message=answer)
    audit_record(actor=actor, action="dsar.complete", target=request, fields=["status", "answer"])
    return event


def _tell_recipients(request: Request, recipients: list[str]) -> None:
    RecipientNotice.objects.bulk_create(
        [RecipientNotice(request=request, recipient=code) for code in sorted(set(recipients))],
        ignore_conflicts=True,
    )


def request_complete(
    *,
    request: Request,
    actor: Actor,
    answer: str = "",
    changes: dict[str, dict[str, object]] | None = None,
) -> Request:
    """Carry out the request through the rights engine and answer the person.

    Access and portability answers are built by a Celery task and end in a
    download link; the others are done here, in this transaction.
    """
    with transaction.atomic():
        request = Request.objects.select_for_update().get(pk=request.pk)
        _require_open(request)
        previous = request.status
        emails = request_subject_emails(request)
        answer = (answer or "").strip()
        if request.type in Request.FILE_ANSWERS:
            _rights(
                "services.access_report_build"
                if request.type == Type.ACCESS
                else "services.portability_export_build"
            )
            request.status = Status.IN_PROGRESS
            request.answer = answer
            _save(request, ["status", "answer"])
            _event(request, Action.STARTED, actor, from_status=previous, note=_("Building the answer file."))
            audit_record(actor=actor, action="dsar.start", target=request, fields=["status"])
            from .tasks import request_answer_build

            request_id = request.pk
            transaction.on_commit(lambda: request_answer_build.delay(request_id))
            return request
        redact = False
        if request.type == Type.ERASURE:
            recipients = _rights("selectors.recipients_for")(emails=emails)
            outcome = _rights("services.subject_erase")(
                emails=emails, actor=actor, reference=request.reference
            )
            _tell_recipients(request, recipients)
            answer = "\n\n".join(filter(None, [answer, erasure_summary(outcome, language=request.language)]))
            redact = True
        elif request.type == Type.RECTIFICATION:
            if not changes:
                raise ValidationError({"changes": _("Enter at least one corrected value.")})
            recipients = _rights("selectors.recipients_for")(emails=emails)
            changed = _rights("services.subject_rectify")(
                emails=emails, changes=changes, actor=actor, reference=request.reference
            )
            _tell_recipients(request, recipients)
            if not answer:
                with translation.override(request.language):
                    answer = _("We have corrected your data as you asked (%(n)d records).") % {
                        "n": sum(changed.values())
                    }
        elif request.type in (Type.RESTRICTION, Type.OBJECTION):
            kind = ProcessingRestriction.Kind(request.type)
            for email in emails:
                restriction = ProcessingRestriction(
                    email=email, kind=kind, scope=request.details, request=request
                )
                restriction.full_clean()
                restriction.save()
            if request.type == Type.OBJECTION:
                # Art. 21(3): an objection to direct marketing is absolute and must
                # outlive the person's record.
                from consent.models import SuppressionEntry
                from consent.services import suppression_add

                for email in emails:
                    suppression_add(email=email, reason=SuppressionEntry.Reason.OBJECTION, actor=actor)
                _object_to_marketing(request, actor)
            audit_record(actor=actor, action=f"dsar.{request.type}", target=request, fields=["email"])
            if not answer:
                with translation.override(request.language):
                    answer = (
                        _("We have restricted the use of your data: we keep it, but do not use it.")
                        if request.type == Type.RESTRICTION
                        else _("We have stopped using your data for the purposes you objected to.")
                    )
        elif request.type == Type.WITHDRAWAL:
            withdrawn = _withdraw_every_consent(request, actor)
            if not answer:
                with translation.override(request.language):
                    answer = _("We have withdrawn your consent (%(n)d topics).") % {"n": withdrawn}
        else:
            answer = _require_text(answer, "answer", _("Write the answer to the person."))
        event = _close(request, actor, answer=answer, previous=previous)
        _send_later(request, "completed", link=RequestToken.Purpose.STATUS, event=event, redact=redact)
    return request


def _withdraw_every_consent(request: Request, actor: Actor) -> int:
    """Withdraw every consent the person's records have (Art. 7(3)), through the consent ledger."""
    from consent.models import Channel, ConsentState
    from consent.selectors import consent_state_for_contact
    from consent.services import consent_withdraw

    live = {ConsentState.State.GRANTED, ConsentState.State.PENDING}
    count = 0
    for contact in request.contacts.all():
        for row in consent_state_for_contact(contact=contact):
            if row.state in live:
                consent_withdraw(
                    contact=contact, purpose_code=row.purpose_code, channel=Channel.STAFF, actor=actor,
                    reference=request.reference,
                )  # fmt: skip
                count += 1
    return count


def _object_to_marketing(request: Request, actor: Actor) -> None:
    """Art. 21(2)-(3): an objection to direct marketing is absolute; record it in the consent ledger."""
    from consent.models import Channel
    from consent.selectors import consent_state_for_contact
    from consent.services import objection_record

    for contact in request.contacts.all():
        for row in consent_state_for_contact(contact=contact):
            if row.is_marketing:
                objection_record(
                    contact=contact, purpose_code=row.purpose_code, channel=Channel.STAFF, actor=actor,
                    reference=request.reference,
                )  # fmt: skip


def erasure_summary(outcome: Any, *, language: str) -> str:
    """What was erased and what was kept and why, in the person's words (Art. 17(1), 12(1))."""
    by_label = {d.label: d for d in registry.declarations()}
    lines = []
    with translation.override(language):
        erased = {k: v for k, v in (getattr(outcome, "erased", {}) or {}).items() if v}
        if erased:
            lines.append(_("We have erased:"))
            lines += [f"- {_describe(by_label, label)}: {count}" for label, count in sorted(erased.items())]
        else:
            lines.append(_("We held nothing about you that could be erased."))
        kept = list(getattr(outcome, "kept", []) or [])
        if kept:
            lines.append(_("We have kept, because the law requires it or allows it:"))
            lines += [f"- {_describe(by_label, label)}: {why}" for label, why in kept]
    return "\n".join(lines)


def _describe(by_label: dict[str, Any], label: str) -> str:
    declaration = by_label.get(label)
    return str(declaration.description) if declaration else label


def request_answer_attach(*, request_id: int, content: bytes, actor: Actor) -> RequestEvent | None:
    """Store the built answer in private storage and close the request.

    Returns the closing event, for the task to email the download link with;
    None when the answer was already attached (the task ran twice).
    """
    with transaction.atomic():
        request = Request.objects.select_for_update().get(pk=request_id)
        if request.status in Request.CLOSED:
            return None  # built twice: the first one won
        request.answer_file.save(f"{request.reference}.zip", ContentFile(content), save=False)
        request.answer_ready_at = timezone.now()
        _save(request, ["answer_file", "answer_ready_at"])
        _event(request, Action.ANSWER_READY, actor)
        with translation.override(request.language):
            answer = request.answer or _(
                "Your answer is ready. Download it with the link we emailed you; the link works for "
                "a limited time, and you can ask for a new one on the status page."
            )
        return _close(request, actor, answer=answer, previous=request.status)


def request_email_deliver(
    *, request: Request, kind: str, link: str = "", event: RequestEvent | None = None
) -> RequestEmail | None:
    """Render and send one email to the person and keep a copy with the request, without the link."""
    if not request.email:
        return None
    token = request_token_issue(request=request, purpose=link) if link else ""
    url = ""
    if token:
        route = {"verify": "verify", "status": "status_link", "download": "download"}[link]
        from django.urls import reverse

        url = settings.SITE_URL + reverse(f"requests_dsar:{route}", args=[token])
    context = {
        "request": request,
        "link_url": url,
        "link_kind": link,
        "link_hours": int(link_lifetime(link).total_seconds() // 3600) if link else 0,
        "event": event,
        "answer_ready": bool(request.answer_file),
    }
    rendered = send_email(f"dsar-{kind}", context, to=request.email, language=request.language)
    hidden = "[" + _("link removed") + "]"
    return RequestEmail.objects.create(
        request=request,
        kind=kind,
        to=request.email,
        subject=rendered.subject[:300],
        body=rendered.body.replace(url, hidden) if url else rendered.body,
    )


def request_redact(*, request: Request, actor: Actor) -> Request:
    """After an erasure: keep that we answered, remove who asked (Art. 17, 5(2))."""
    with transaction.atomic():
        request = Request.objects.select_for_update().get(pk=request.pk)
        if request.redacted_at:
            return request
        emails = request_subject_emails(request)
        # The person's other, closed requests go too; the record of each answer stays.
        others = Request.objects.filter(email__in=emails, redacted_at=None).filter(status__in=Request.CLOSED)
        for each in [request, *others.exclude(pk=request.pk)]:
            if each.answer_file:
                each.answer_file.delete(save=False)
            each.contacts.clear()
            Request.objects.filter(pk=each.pk).update(
                email="", name="", organisation="", details="", answer="", refusal_reason="",
                extension_reason="", answer_file="", redacted_at=timezone.now(),
            )  # fmt: skip
            RequestEvent.objects.filter(request=each).update(note="", message="")
            RequestEmail.objects.filter(request=each).update(to="", subject="", body="")
            each.refresh_from_db()
            _event(each, Action.REDACTED, actor)
            audit_record(actor=actor, action="dsar.redact", target=each, fields=["email", "name"])
        ProcessingRestriction.objects.filter(email__in=emails).delete()
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
    return restriction


# --- reminders --------------------------------------------------------------------


def requests_remind(*, on: date | None = None) -> dict[str, int]:
    """Remind assignees of deadlines coming up, and daily of overdue requests.

    Each reminder is claimed by a conditional UPDATE, so running the job twice
    sends nothing twice.
    """
    on = on or deadlines.today()
    soon = on + timedelta(days=_setting("DSAR_REMIND_DAYS_BEFORE", 5))
    open_ = Request.objects.filter(status__in=Request.OPEN)
    sent = {"due_soon": 0, "overdue": 0}
    for pk in open_.filter(due_date__gte=on, due_date__lte=soon, reminded_due_soon_at=None).values_list(
        "pk", flat=True
    ):
        if Request.objects.filter(pk=pk, reminded_due_soon_at=None).update(
            reminded_due_soon_at=timezone.now()
        ):
            _remind(pk, overdue=False)
            sent["due_soon"] += 1
    overdue = open_.filter(due_date__lt=on).exclude(reminded_overdue_on=on)
    for pk in overdue.values_list("pk", flat=True):
        claimed = Request.objects.filter(pk=pk).exclude(reminded_overdue_on=on).update(reminded_overdue_on=on)
        if claimed:
            _remind(pk, overdue=True)
            sent["overdue"] += 1
    return sent


def _remind(pk: int, *, overdue: bool) -> None:
    request = Request.objects.select_related("assignee").get(pk=pk)
    to = (
        request.assignee.email
        if request.assignee and request.assignee.email
        else settings.PRIVACY_OFFICER_EMAIL
    )
    from django.urls import reverse

    send_email(
        "dsar-reminder",
        {
            "request": request,
            "overdue": overdue,
            "admin_url": settings.SITE_URL
            + reverse("admin:requests_dsar_datasubjectrequest_change", args=[pk]),
        },
        to=to,
        language=settings.LANGUAGE_CODE,
    )
    _event(
        request, Action.REMINDED, Actor.system("dsar.reminders"), note="overdue" if overdue else "due soon"
    )


def requests_unconfirmed_purge(*, older_than_days: int | None = None) -> int:
    """Delete requests never confirmed: we cannot know they came from the person (Art. 5(1)(e))."""
    days = older_than_days if older_than_days is not None else _setting("DSAR_UNCONFIRMED_KEEP_DAYS", 30)
    cutoff = timezone.now() - timedelta(days=days)
    with transaction.atomic():
        ids = list(
            Request.objects.filter(status=Status.RECEIVED, submitted_at__lt=cutoff).values_list(
                "pk", flat=True
            )
        )
        Request.objects.filter(pk__in=ids).delete()
        if ids:
            audit_record(
                actor=Actor.system("dsar.purge"),
                action="dsar.purge_unconfirmed",
                target_type="requests_dsar.datasubjectrequest",
                target_id=len(ids),
            )
    return len(ids)
