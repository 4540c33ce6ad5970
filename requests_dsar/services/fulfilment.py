"""Carrying out a request and answering the person: one handler per kind of request."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.audit import Actor, audit_record
from core.events import subject_restricted
from core.registry import registry

from ..models import ProcessingRestriction, RecipientNotice, RequestEvent, RequestToken
from .base import (
    Action,
    Request,
    Status,
    Type,
    _close,
    _event,
    _require_open,
    _require_text,
    _save,
    _send_later,
    request_subject_emails,
)

Changes = dict[str, dict[str, object]]


def _tell_recipients(request: Request, recipients: list[str]) -> None:
    RecipientNotice.objects.bulk_create(
        [RecipientNotice(request=request, recipient=code) for code in sorted(set(recipients))],
        ignore_conflicts=True,
    )


@dataclass
class Completion:
    """What a handler did: the answer to send, and whether the request is redacted after it."""

    answer: str
    redact: bool = False


Handler = Callable[..., Completion | None]


def _complete_with_file(
    request: Request, *, actor: Actor, emails: list[str], answer: str, changes: Changes | None
) -> None:
    """Art. 15 and 20: the answer file is built by a Celery task and ends in a download link."""
    previous, request.status = request.status, Status.IN_PROGRESS
    request.answer = answer
    _save(request, ["status", "answer"])
    _event(request, Action.STARTED, actor, from_status=previous, note=_("Building the answer file."))
    audit_record(actor=actor, action="dsar.start", target=request, fields=["status"])
    from ..tasks import request_answer_build

    request_id = request.pk
    transaction.on_commit(lambda: request_answer_build.delay(request_id))
    return None


def _complete_erasure(
    request: Request, *, actor: Actor, emails: list[str], answer: str, changes: Changes | None
) -> Completion:
    """Art. 17: erase through the rights engine, tell the recipients (Art. 19), then redact the request."""
    # Imported here, not at the top: the rights engine reaches back into this app's models.
    from rights.selectors import recipients_for
    from rights.services import subject_erase

    recipients = recipients_for(emails=emails)
    # request_id: the subject.erased event names the request, so a recipient's 2xx marks its notice told.
    outcome = subject_erase(emails=emails, actor=actor, reference=request.reference, request_id=request.pk)
    _tell_recipients(request, recipients)
    summary = erasure_summary(outcome, language=request.language)
    return Completion("\n\n".join(filter(None, [answer, summary])), redact=True)


def _complete_rectification(
    request: Request, *, actor: Actor, emails: list[str], answer: str, changes: Changes | None
) -> Completion:
    """Art. 16: correct the records, and tell the recipients (Art. 19)."""
    from rights.selectors import recipients_for
    from rights.services import subject_rectify

    if not changes:
        raise ValidationError({"changes": _("Enter at least one corrected value.")})
    recipients = recipients_for(emails=emails)
    changed = subject_rectify(
        emails=emails, changes=changes, actor=actor, reference=request.reference, request_id=request.pk
    )
    _tell_recipients(request, recipients)
    if not answer:
        with translation.override(request.language):
            answer = _("We have corrected your data as you asked (%(n)d records).") % {
                "n": sum(changed.values())
            }
    return Completion(answer)


def _restrict(request: Request, emails: list[str]) -> None:
    kind = ProcessingRestriction.Kind(request.type)
    for email in emails:
        restriction = ProcessingRestriction(email=email, kind=kind, scope=request.details, request=request)
        restriction.full_clean()
        restriction.save()


def _complete_restriction(
    request: Request, *, actor: Actor, emails: list[str], answer: str, changes: Changes | None
) -> Completion:
    """Art. 18: keep the data, but do not use it; the recipients are told (Art. 19)."""
    from rights.selectors import recipients_for

    _restrict(request, emails)
    recipients = recipients_for(emails=emails)
    _tell_recipients(request, recipients)
    contact_ids = list(request.contacts.values_list("pk", flat=True))
    for email in emails:
        subject_restricted.send(
            sender=ProcessingRestriction, email=email, contact_ids=contact_ids, request_id=request.pk,
            lifted=False, recipients=recipients,
        )  # fmt: skip
    audit_record(actor=actor, action=f"dsar.{request.type}", target=request, fields=["email"])
    if not answer:
        with translation.override(request.language):
            answer = _("We have restricted the use of your data: we keep it, but do not use it.")
    return Completion(answer)


def _complete_objection(
    request: Request, *, actor: Actor, emails: list[str], answer: str, changes: Changes | None
) -> Completion:
    """Art. 21: stop the processing objected to; an objection to direct marketing is absolute."""
    from consent.models import SuppressionEntry
    from consent.services import suppression_add

    _restrict(request, emails)
    # Art. 21(3): an objection to direct marketing is absolute and must
    # outlive the person's record.
    for email in emails:
        suppression_add(email=email, reason=SuppressionEntry.Reason.OBJECTION, actor=actor)
    _object_to_marketing(request, actor)
    audit_record(actor=actor, action=f"dsar.{request.type}", target=request, fields=["email"])
    if not answer:
        with translation.override(request.language):
            answer = _("We have stopped using your data for the purposes you objected to.")
    return Completion(answer)


def _complete_withdrawal(
    request: Request, *, actor: Actor, emails: list[str], answer: str, changes: Changes | None
) -> Completion:
    """Art. 7(3): withdraw every consent, through the consent ledger."""
    withdrawn = _withdraw_every_consent(request, actor)
    if not answer:
        with translation.override(request.language):
            answer = _("We have withdrawn your consent (%(n)d topics).") % {"n": withdrawn}
    return Completion(answer)


def _complete_with_answer(
    request: Request, *, actor: Actor, emails: list[str], answer: str, changes: Changes | None
) -> Completion:
    """Any other request: staff write the answer."""
    return Completion(_require_text(answer, "answer", _("Write the answer to the person.")))


# One handler per kind of request; a kind missing here is answered by staff in writing.
HANDLERS: dict[str, Handler] = {
    Type.ACCESS: _complete_with_file,
    Type.PORTABILITY: _complete_with_file,
    Type.ERASURE: _complete_erasure,
    Type.RECTIFICATION: _complete_rectification,
    Type.RESTRICTION: _complete_restriction,
    Type.OBJECTION: _complete_objection,
    Type.WITHDRAWAL: _complete_withdrawal,
}


def request_complete(
    *,
    request: Request,
    actor: Actor,
    answer: str = "",
    changes: Changes | None = None,
) -> Request:
    """Carry out the request through its kind's handler and answer the person.

    Access and portability answers are built by a Celery task and end in a
    download link; the others are done here, in this transaction.
    """
    with transaction.atomic():
        request = Request.objects.select_for_update().get(pk=request.pk)
        _require_open(request)
        previous = request.status
        handler = HANDLERS.get(request.type, _complete_with_answer)
        done = handler(
            request,
            actor=actor,
            # An answer file reads the addresses when the worker builds it (request_answer_build).
            emails=[] if handler is _complete_with_file else request_subject_emails(request),
            answer=(answer or "").strip(),
            changes=changes,
        )
        if done is None:
            return request  # closed later, by the task that builds the answer
        event = _close(request, actor, answer=done.answer, previous=previous)
        # The answer to an erasure is written now: the redaction after commit does
        # not wait for the mail server, and takes the details the answer needs.
        _send_later(
            request, "completed", link=RequestToken.Purpose.STATUS, event=event, write_now=done.redact
        )
        if done.redact:
            from ..tasks import request_redact_after_erasure

            request_id = request.pk
            # Its own step after commit (Art. 17): neither the journal nor the email holds it up.
            transaction.on_commit(lambda: request_redact_after_erasure.delay(request_id), robust=True)
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
    """Art. 21: record the objection in the consent ledger (consent.services.objection_request_apply).

    Direct marketing is stopped absolutely (Art. 21(3)) and every legitimate-interest
    purpose stops (Art. 21(1)) until staff record compelling grounds there.
    """
    from consent.services import objection_request_apply

    for contact in request.contacts.all():
        objection_request_apply(contact=contact, purpose_codes=None, actor=actor, reference=request.reference)


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

    The download link is emailed after commit. Returns the closing event; None
    when the answer was already attached (the task ran twice).
    """
    with transaction.atomic():
        request = Request.objects.select_for_update().get(pk=request_id)
        if request.status in Request.CLOSED:
            return None  # built twice: the first one won
        request.answer_file.save(f"{request.reference}.zip", ContentFile(content), save=False)
        request.answer_ready_at = timezone.now()
        _event(request, Action.ANSWER_READY, actor)
        with translation.override(request.language):
            answer = request.answer or _(
                "Your answer is ready. Download it with the link we emailed you; the link works for "
                "a limited time, and you can ask for a new one on the status page."
            )
        # The file and the closing in one UPDATE of the request.
        event = _close(
            request, actor, answer=answer, previous=request.status, also=["answer_file", "answer_ready_at"]
        )
        _send_later(request, "completed", link=RequestToken.Purpose.DOWNLOAD, event=event)
        return event
