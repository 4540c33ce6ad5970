"""Templated email in the person's language.

Every email is three templates: ``templates/emails/<name>-subject.txt``,
``-body.txt`` and ``-body.html``, rendered under the recipient's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    body: str
    html: str


def render_email(name: str, context: Mapping[str, Any], *, language: str) -> RenderedEmail:
    context = {"site_url": settings.SITE_URL, **context}
    with translation.override(language):
        subject = render_to_string(f"emails/{name}-subject.txt", context)
        body = render_to_string(f"emails/{name}-body.txt", context)
        html = render_to_string(f"emails/{name}-body.html", context)
    return RenderedEmail(" ".join(subject.split()), body, html)


def send_email(
    name: str,
    context: Mapping[str, Any],
    *,
    to: str,
    language: str,
    headers: Mapping[str, str] | None = None,
) -> RenderedEmail:
    """Render and send one email; returns what was sent, for callers that keep a copy."""
    rendered = render_email(name, context, language=language)
    message = EmailMultiAlternatives(
        rendered.subject, rendered.body, settings.DEFAULT_FROM_EMAIL, [to], headers=dict(headers or {})
    )
    message.attach_alternative(rendered.html, "text/html")
    message.send()
    return rendered
