"""Celery doors into the request services. Tasks take ids and are safe to run twice."""

from __future__ import annotations

import logging
import random
import smtplib

from celery import shared_task
from django.db import OperationalError
from django.utils import translation

from core.audit import Actor

logger = logging.getLogger(__name__)

# Retried for about four hours in all (30 s, 1, 2, 4 ... 64 min), then recorded as failed.
EMAIL_MAX_RETRIES = 8
EMAIL_FIRST_DELAY = 30


def backoff(retries: int, *, first: int = EMAIL_FIRST_DELAY, cap: int = 3600) -> int:
    """Exponential backoff with jitter, so that retries after an outage do not all arrive at once."""
    delay = min(cap, first * 2**retries)
    return delay + random.randint(0, max(1, delay // 4))


def _permanent(error: Exception) -> bool:
    # A 5xx answer (or every recipient refused) will not change by retrying.
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return True
    return isinstance(error, smtplib.SMTPResponseException) and 500 <= error.smtp_code < 600


@shared_task(bind=True, max_retries=EMAIL_MAX_RETRIES)
def request_email_send(self, email_id: int) -> None:
    """Send one queued email to the person; retried with backoff, a permanent failure recorded.

    ``OSError`` covers refused and dropped connections and timeouts; the mail
    server's own errors are ``SMTPException``. The failure is recorded on the
    email and in the request's history (staff see it in the admin).
    """
    from .services.mail import request_email_deliver, request_email_failed

    try:
        request_email_deliver(email_id=email_id)
    except (smtplib.SMTPException, OSError) as error:
        if _permanent(error) or self.request.retries >= self.max_retries:
            logger.warning("dsar: email %s could not be delivered: %s", email_id, type(error).__name__)
            request_email_failed(email_id=email_id, failure=type(error).__name__)
            return
        raise self.retry(exc=error, countdown=backoff(self.request.retries)) from None


@shared_task(
    autoretry_for=(OperationalError, OSError), retry_backoff=True, retry_backoff_max=3600, max_retries=8
)
def request_redact_after_erasure(request_id: int) -> None:
    """After an erasure: remove who asked from the request (Art. 17), whatever the email does."""
    from .models import DataSubjectRequest
    from .services import request_redact

    request = DataSubjectRequest.objects.filter(pk=request_id).first()
    if request is not None:
        request_redact(request=request, actor=Actor.system("dsar.erasure"))


@shared_task(autoretry_for=(ConnectionError, TimeoutError), retry_backoff=True, max_retries=3)
def request_answer_build(request_id: int) -> None:
    """Build the access (Art. 15) or portability (Art. 20) answer and attach it to the request.

    Attaching closes the request and queues the email with the download link.
    """
    from rights.services import access_report_build, portability_export_build

    from .models import DataSubjectRequest
    from .services import request_answer_attach, request_subject_emails

    request = DataSubjectRequest.objects.filter(pk=request_id).first()
    if request is None or request.status in DataSubjectRequest.CLOSED:
        return
    if request.type == DataSubjectRequest.Type.ACCESS:
        build = access_report_build
    else:
        build = portability_export_build
    # Issue 9, item 12: the answer is in the language the person asked in (Art. 12(1)).
    with translation.override(request.language or "nb"):
        content = build(emails=request_subject_emails(request), reference=request.reference)
    request_answer_attach(request_id=request_id, content=content, actor=Actor.system("dsar.answer"))


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


# --- Nothing outlives its purpose (issue 8, item 9; Art. 5(1)(e)) ---------------------------


@shared_task
def requests_answer_files_expire() -> int:
    """Beat: delete access and portability answers ``DSAR_ANSWER_FILE_KEEP_DAYS`` after closing."""
    from .services import requests_answer_files_expire as expire

    return expire()


@shared_task
def subject_ips_expire() -> dict[str, int]:
    """Beat: empty data subjects' IP addresses in the audit trail and request history after their period."""
    from datetime import timedelta

    from django.utils import timezone

    from core.audit_retention import audit_ip_expire, audit_ip_keep_days

    from .services import request_history_ips_expire

    before = timezone.now() - timedelta(days=audit_ip_keep_days())
    return {
        "audit_events": audit_ip_expire(before=before),
        "request_events": request_history_ips_expire(before=before),
    }


@shared_task
def sessions_clear_expired() -> None:
    """Beat: delete expired sessions (``manage.py clearsessions``): a portal session names a request."""
    from importlib import import_module

    from django.conf import settings

    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
