"""Emails to the person about their request, with a copy kept on the request (without the link)."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from core.mail import send_email

from ..models import RequestEmail, RequestEvent
from .base import Request
from .tokens import link_lifetime, request_token_issue


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
