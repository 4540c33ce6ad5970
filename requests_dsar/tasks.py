"""Celery doors into the request services. Tasks take ids and are safe to run twice."""

from __future__ import annotations

from celery import shared_task

from core.audit import Actor


@shared_task(autoretry_for=(ConnectionError, TimeoutError), retry_backoff=True, max_retries=5)
def request_email_send(
    request_id: int, kind: str, link: str = "", event_id: int | None = None, redact: bool = False
) -> None:
    """Email the person about their request; the link's token is made here and never stored in clear."""
    from .models import DataSubjectRequest, RequestEvent
    from .services import request_email_deliver, request_redact

    request = DataSubjectRequest.objects.filter(pk=request_id).first()
    if request is None:
        return
    event = RequestEvent.objects.filter(pk=event_id).first() if event_id else None
    request_email_deliver(request=request, kind=kind, link=link, event=event)
    if redact:
        # After an erasure, the answer needed the address; now it goes (Art. 17).
        request_redact(request=request, actor=Actor.system("dsar.erasure"))


@shared_task(autoretry_for=(ConnectionError, TimeoutError), retry_backoff=True, max_retries=3)
def request_answer_build(request_id: int) -> None:
    """Build the access (Art. 15) or portability (Art. 20) answer and attach it to the request."""
    from rights.services import access_report_build, portability_export_build

    from .models import DataSubjectRequest, RequestToken
    from .services import request_answer_attach, request_email_deliver, request_subject_emails

    request = DataSubjectRequest.objects.filter(pk=request_id).first()
    if request is None or request.status in DataSubjectRequest.CLOSED:
        return
    if request.type == DataSubjectRequest.Type.ACCESS:
        build = access_report_build
    else:
        build = portability_export_build
    content = build(emails=request_subject_emails(request), reference=request.reference)
    event = request_answer_attach(request_id=request_id, content=content, actor=Actor.system("dsar.answer"))
    if event is not None:
        # Sent here rather than from another task: the answer is ready, so is the link.
        request.refresh_from_db()
        request_email_deliver(
            request=request, kind="completed", link=RequestToken.Purpose.DOWNLOAD, event=event
        )


@shared_task
def requests_send_reminders() -> dict[str, int]:
    """Beat: remind assignees of deadlines coming up and of overdue requests (Art. 12(3))."""
    from .services import requests_remind

    return requests_remind()


@shared_task
def requests_purge_unconfirmed() -> int:
    """Beat: delete requests nobody confirmed, once their link is long dead (Art. 5(1)(c), (e))."""
    from .services import requests_unconfirmed_purge

    return requests_unconfirmed_purge()
