"""After an erasure: keep that we answered, remove who asked (Art. 17, 5(2))."""

from __future__ import annotations

from django.core.files.storage import Storage
from django.db import transaction
from django.utils import timezone

from core.audit import Actor, audit_record
from core.removal import Door, removal_execute, rows_target

from ..models import ProcessingRestriction, RequestEmail, RequestEvent
from .base import Action, Request, _event, request_subject_emails


def request_redact(*, request: Request, actor: Actor) -> Request:
    """After an erasure: keep that we answered, remove who asked (Art. 17, 5(2))."""
    with transaction.atomic():
        request = Request.objects.select_for_update().get(pk=request.pk)
        if request.redacted_at:
            return request
        emails = request_subject_emails(request)
        files = []
        # The person's other, closed requests go too; the record of each answer stays.
        others = (
            Request.objects.select_for_update()
            .filter(email__in=emails, redacted_at=None)
            .filter(status__in=Request.CLOSED)
        )
        for each in [request, *others.exclude(pk=request.pk)]:
            if each.answer_file:
                files.append((each.answer_file.storage, each.answer_file.name))
            each.contacts.clear()
            Request.objects.filter(pk=each.pk).update(
                email="", name="", organisation="", details="", answer="", refusal_reason="",
                extension_reason="", answer_file="", redacted_at=timezone.now(),
            )  # fmt: skip
            RequestEvent.objects.filter(request=each).update(note="", message="")
            # An email still waiting to be sent keeps its address until sent (or failed),
            # then drops it itself: the redaction does not wait for the mail server.
            RequestEmail.objects.filter(request=each).exclude(status=RequestEmail.Status.QUEUED).update(
                to="", subject="", body="", html=""
            )
            each.refresh_from_db()
            _event(each, Action.REDACTED, actor)
            audit_record(actor=actor, action="dsar.redact", target=each, fields=["email", "name"])
        # Nothing is left to restrict once the person is erased; an objection to
        # marketing lives on in the suppression list. Removed by the engine (Art. 17).
        removal_execute(
            targets=[rows_target(ProcessingRestriction.objects.filter(email__in=emails))],
            door=Door.REQUEST, actor=actor, reference=request.reference, audit_action="dsar.redact",
        )  # fmt: skip
        # The answer files (a full copy of the person's data) leave storage after commit.
        transaction.on_commit(lambda: _delete_files(files), robust=True)
    return request


def _delete_files(files: list[tuple[Storage, str]]) -> None:
    for storage, name in files:
        storage.delete(name)
