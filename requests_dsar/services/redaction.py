"""After an erasure: keep that we answered, remove who asked (Art. 17, 5(2))."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from core.audit import Actor, audit_record

from ..models import ProcessingRestriction, RequestEmail, RequestEvent
from .base import Action, Request, _event, request_subject_emails


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
