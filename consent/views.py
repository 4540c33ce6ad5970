"""Public doors: the notice, the web sign-up, its confirmation, and the unsubscribe link.

None needs a login: the notice is public, and the links carry their own proof
(a single-use token, or a signature). Every failure is a page that says what
happened, with nothing changed.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from core.audit import Actor, client_ip
from core.errors import ApplicationError, Conflict, NotFound
from subjects import services as subject_services
from subjects.models import Contact
from subjects.selectors import contact_by_email

from . import selectors, services
from .forms import SubscribeForm, signup_wording
from .models import Channel


def _language() -> str:
    return "en" if (get_language() or "nb").startswith("en") else "nb"


def _problem(request: HttpRequest, *, title: str, message: str, status: int) -> HttpResponse:
    return render(request, "consent/problem.html", {"title": title, "message": message}, status=status)


@require_http_methods(["GET", "HEAD"])
def notice_current(request: HttpRequest) -> HttpResponse:
    notice = selectors.notice_current()
    return render(
        request,
        "consent/notice.html",
        {
            "notice": notice,
            "text": notice.text(_language()) if notice else "",
            "upcoming": selectors.notice_upcoming(),
            "versions": selectors.notices_published(),
            "is_current": True,
        },
    )


@require_http_methods(["GET", "HEAD"])
def notice_version(request: HttpRequest, version: str) -> HttpResponse:
    try:
        notice = selectors.notice_by_version(version=version)
    except NotFound as error:
        return _problem(request, title=_("Notice not found"), message=error.message, status=404)
    current = selectors.notice_current()
    return render(
        request,
        "consent/notice.html",
        {
            "notice": notice,
            "text": notice.text(_language()),
            "summary": notice.summary(_language()),
            "versions": selectors.notices_published(),
            "is_current": current is not None and current.pk == notice.pk,
        },
    )


@require_http_methods(["GET", "POST"])
def subscribe(request: HttpRequest) -> HttpResponse:
    """Web sign-up to marketing topics: double opt-in, so nothing counts until confirmed."""
    language = _language()
    purposes = list(selectors.purposes_consentable().filter(is_marketing=True))
    form = SubscribeForm(request.POST or None, purposes=purposes, language=language)
    if request.method == "POST" and form.is_valid():
        ip = client_ip(request)
        actor = Actor.subject(ip)
        user_agent = request.META.get("HTTP_USER_AGENT", "")
        try:
            contact = contact_by_email(email=form.cleaned_data["email"]) or subject_services.contact_create(
                actor=actor,
                name=form.cleaned_data["name"],
                email=form.cleaned_data["email"],
                language=language,
                source_type=Contact.SourceType.WEB_FORM,
                source_name="consent:subscribe",
            )
            by_code = {p.code: p for p in purposes}
            for code in form.cleaned_data["topics"]:
                services.consent_grant(
                    contact=contact,
                    purpose_code=code,
                    channel=Channel.WEB_FORM,
                    actor=actor,
                    wording=signup_wording(by_code[code], language=language),
                    ip_address=ip,
                    user_agent=user_agent,
                    reference="consent:subscribe",
                )
        except ValidationError as error:
            form.add_error(None, error)
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            # The same answer whether or not the address was known: no one
            # learns from this page who is in the register.
            return render(request, "consent/subscribe_sent.html")
    return render(request, "consent/subscribe.html", {"form": form, "notice": selectors.notice_current()})


@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """Double opt-in. GET shows a button (mail scanners follow links); POST confirms."""
    if request.method == "GET":
        return render(request, "consent/confirm.html", {"token": token})
    try:
        event = services.consent_confirm(
            token=token, ip_address=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", "")
        )
    except services.ExpiredLink as error:
        return _problem(request, title=_("The link has expired"), message=error.message, status=410)
    except Conflict as error:
        return _problem(request, title=_("Already confirmed"), message=error.message, status=409)
    except ApplicationError as error:
        return _problem(request, title=_("The link is not valid"), message=error.message, status=400)
    return render(request, "consent/confirmed.html", {"purpose": event.purpose})


@csrf_exempt  # the signature in the link is the proof; RFC 8058 POSTs come without a session
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """One-click unsubscribe, no login. GET shows the choice; POST (or the RFC 8058 POST) does it."""
    try:
        _contact, purpose = services.unsubscribe_read(token=token)
    except services.ExpiredLink as error:
        return _problem(request, title=_("The link has expired"), message=error.message, status=410)
    except NotFound as error:
        return _problem(request, title=_("Nothing to unsubscribe"), message=error.message, status=404)
    except ApplicationError as error:
        return _problem(request, title=_("The link is not valid"), message=error.message, status=400)
    if request.method == "GET":
        return render(request, "consent/unsubscribe.html", {"purpose": purpose, "token": token})
    everything = request.POST.get("everything") == "1"
    event = services.unsubscribe_apply(
        token=token,
        everything=everything,
        ip_address=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )
    return render(
        request,
        "consent/unsubscribed.html",
        {"purpose": purpose, "everything": everything, "already": event is None},
    )
