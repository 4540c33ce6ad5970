"""Emails to the person about their request: queued with the step, sent on their own after commit.

An email is a ``RequestEmail`` row written in the transaction of the step that
causes it, and sent by the task ``request_email_send`` after commit. So a step
that rolls back sends nothing, a mail server that is slow or down holds up
nothing else (not the portal, not the redaction after an erasure, not the
erasure journal), and a failure is retried with backoff and, when permanent,
recorded on the request for staff to see. The copy kept is what was sent,
without the link (the link's token is made at sending and never stored in clear).
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.audit import Actor
from core.mail import render_email

from ..models import RequestEmail, RequestEvent
from .base import Action, Request, _event
from .tokens import link_lifetime, request_token_issue

# Where the link goes in an email written before it is sent; replaced at sending.
LINK_SLOT = "@@personvern-link@@"
_ROUTES = {"verify": "verify", "status": "status_link", "download": "download"}


def request_email_queue(
    *,
    request: Request,
    kind: str,
    link: str = "",
    event: RequestEvent | None = None,
    write_now: bool = False,
) -> RequestEmail | None:
    """Queue one email to the person; it is sent after commit by ``request_email_send``.

    ``write_now`` writes the text at once, from the request as it is now: for an
    email whose request is redacted before it may be sent (the answer to an
    erasure), since the redaction never waits for the mail server.
    """
    if not request.email:
        return None
    email = RequestEmail(request=request, kind=kind, to=request.email, link=link, event=event)
    if write_now:
        _write(email)
    email.save()
    from ..tasks import request_email_send

    email_id = email.pk
    # robust: a failing earlier callback (a file, the journal) must not stop the email.
    transaction.on_commit(lambda: request_email_send.delay(email_id), robust=True)
    return email


def _write(email: RequestEmail) -> None:
    request = email.request
    context = {
        "request": request,
        "link_url": LINK_SLOT if email.link else "",
        "link_kind": email.link,
        "link_hours": int(link_lifetime(email.link).total_seconds() // 3600) if email.link else 0,
        "event": email.event,
        "answer_ready": bool(request.answer_file),
    }
    rendered = render_email(f"dsar-{email.kind}", context, language=request.language)
    email.subject, email.body, email.html = rendered.subject[:300], rendered.body, rendered.html


def request_email_deliver(*, email_id: int) -> RequestEmail | None:
    """Send one queued email and keep the copy without the link. Safe to run twice.

    The row is locked while it is sent, so two workers never send it both; a
    second run finds it sent and does nothing. A mail-server error rolls the
    claim back, so the task's retry finds it queued again.
    """
    with transaction.atomic():
        email = (
            RequestEmail.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("request", "event")
            .filter(pk=email_id, status=RequestEmail.Status.QUEUED)
            .first()
        )
        if email is None:
            return None
        request = email.request
        if not email.body:
            _write(email)
        url = ""
        if email.link:
            token = request_token_issue(request=request, purpose=email.link)
            url = settings.SITE_URL + reverse(f"requests_dsar:{_ROUTES[email.link]}", args=[token])
        message = EmailMultiAlternatives(
            email.subject, email.body.replace(LINK_SLOT, url), settings.DEFAULT_FROM_EMAIL, [email.to]
        )
        message.attach_alternative(email.html.replace(LINK_SLOT, url), "text/html")
        message.send()
        with translation.override(request.language):
            hidden = "[" + _("link removed") + "]"
        email.status, email.sent_at, email.html = RequestEmail.Status.SENT, timezone.now(), ""
        email.body = email.body.replace(LINK_SLOT, hidden)
        if _redacted(email):
            # Art. 17: the request was redacted while this waited; the copy goes too.
            email.to = email.subject = email.body = ""
        email.save(update_fields=["status", "sent_at", "html", "body", "to", "subject"])
    return email


def request_email_failed(*, email_id: int, failure: str) -> RequestEmail | None:
    """Record that an email could not be delivered, on the email and in the request's history.

    ``failure`` is the kind of error only, never the server's text (it may name
    the person). Staff see it on the request and can write to the person another way.
    """
    with transaction.atomic():
        email = (
            RequestEmail.objects.select_for_update(of=("self",))
            .select_related("request")
            .filter(pk=email_id, status=RequestEmail.Status.QUEUED)
            .first()
        )
        if email is None:
            return None
        email.status, email.failure, email.html = RequestEmail.Status.FAILED, failure[:100], ""
        if _redacted(email):
            # Nothing is kept to retry with after an erasure: the address goes.
            email.to = email.subject = email.body = ""
        email.save(update_fields=["status", "failure", "html", "to", "subject", "body"])
        _event(email.request, Action.EMAIL_FAILED, Actor.system("dsar.mail"), note=f"{email.kind}: {failure}")
    return email


def _redacted(email: RequestEmail) -> bool:
    # Read under the request's lock, which ``request_redact`` holds until it commits:
    # either it has committed (and we drop the address here), or it runs after us
    # and finds this email no longer queued (and drops the address itself).
    locked = Request.objects.select_for_update().filter(pk=email.request_id)
    return locked.values_list("redacted_at", flat=True).first() is not None
