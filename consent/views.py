"""Public doors: the notice, the web sign-up, its confirmation, and the unsubscribe link.

None needs a login: the notice is public, and the links carry their own proof
(a single-use token, or a signature). Every failure is a page that says what
happened, with nothing changed.
"""

from __future__ import annotations

import functools
import json

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from core.errors import ApplicationError, Conflict, NotFound
from core.http import client_ip
from requests_dsar.ratelimit import rate_limit_hit
from requests_dsar.selectors import portal_session_email

from . import selectors, services
from .forms import SubscribeForm


def _language() -> str:
    return "en" if (get_language() or "nb").startswith("en") else "nb"


def _problem(
    request: HttpRequest, *, title: str, message: str, status: int, signup_again: bool = False
) -> HttpResponse:
    context = {"title": title, "message": message, "signup_again": signup_again}
    return render(request, "consent/problem.html", context, status=status)


def _notice_page(request: HttpRequest, *, version: str | None = None) -> HttpResponse:
    """The notice in force (``version`` None) or one published version.

    A published version never changes (consent.services.notice_update, the admin's
    read-only fields), so what the page shows follows from the published versions and
    which of their dates have come: with the language and the version asked, that is the
    key of the fragment the template keeps (settings: "template_fragments"). A kept page
    costs one query, the list, which reads no texts; the selectors decide what is in
    force and what is coming, and the texts are read, only when it is rendered (issue 9:
    the three reads and the notice's rendering were most of these pages' time).
    """
    now = timezone.now()
    versions = list(
        selectors.notices_published().only("pk", "version", "effective_from", "is_material", "published_at")
    )
    if version is not None and all(published.version != version for published in versions):
        try:
            selectors.notice_by_version(version=version)
        except NotFound as error:
            return _problem(request, title=_("Notice not found"), message=error.message, status=404)
    language = _language()

    @functools.cache
    def shown() -> dict[str, object]:
        current = selectors.notice_current(at=now)
        if version is None:
            return {
                "notice": current,
                "text": current.text(language) if current else "",
                "upcoming": selectors.notice_upcoming(),
                "is_current": True,
            }
        notice = selectors.notice_by_version(version=version)
        return {
            "notice": notice,
            "text": notice.text(language),
            "summary": notice.summary(language),
            "is_current": current is not None and current.pk == notice.pk,
        }

    return render(
        request,
        "consent/notice.html",
        {
            "version_asked": version,
            "versions": versions,
            "versions_state": [(v.pk, v.published_at, v.effective_from <= now) for v in versions],
            "shown": shown,
        },
    )


@require_http_methods(["GET", "HEAD"])
def notice_current(request: HttpRequest) -> HttpResponse:
    return _notice_page(request)


@require_http_methods(["GET", "HEAD"])
def notice_version(request: HttpRequest, version: str) -> HttpResponse:
    return _notice_page(request, version=version)


def _rate_limited(request: HttpRequest, form: SubscribeForm) -> HttpResponse:
    form.add_error(
        None,
        _(
            "You have tried this too many times in a short while. Please wait an hour and try again, "
            "or write to us by email."
        ),
    )
    return render(request, "consent/subscribe.html", {"form": form}, status=429)


@never_cache
@require_http_methods(["GET", "POST"])
def subscribe(request: HttpRequest) -> HttpResponse:
    """Web sign-up to marketing topics: kept apart, nothing counts until the person confirms.

    The same work and the same answer for every address: the sign-up is stored apart
    from the register and the email goes out after the response, so neither the page
    nor its timing tells who is a contact. Rate limited per IP and per address, like
    the portal's request form.
    """
    language = _language()
    purposes = list(selectors.purposes_consentable().filter(is_marketing=True))
    form = SubscribeForm(request.POST or None, purposes=purposes, language=language)
    if request.method == "POST":
        ip = client_ip(request)
        # Both counters move on every attempt, so neither tells which limit was hit first.
        over_ip = rate_limit_hit("signup_ip", ip or "")
        over_email = rate_limit_hit("signup_email", (request.POST.get("email") or "").strip().lower())
        if over_ip or over_email:
            return _rate_limited(request, form)
        if form.is_valid():
            try:
                services.signup_create(
                    email=form.cleaned_data["email"],
                    name=form.cleaned_data["name"],
                    topics=form.cleaned_data["topics"],
                    language=language,
                    ip_address=ip,
                    user_agent=request.META.get("HTTP_USER_AGENT", ""),
                )
            except ValidationError as error:
                form.add_error(None, error)
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                return render(request, "consent/subscribe_sent.html")
    return render(request, "consent/subscribe.html", {"form": form})


@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """Double opt-in. GET shows a button (mail scanners follow links); POST confirms."""
    if request.method == "GET":
        return render(request, "consent/confirm.html", {"token": token})
    try:
        events = services.signup_confirm(
            token=token, ip_address=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", "")
        )
    except services.ExpiredLink as error:
        # A link emailed before sign-ups were kept apart names its person: their language.
        with translation.override(error.extra.get("language") or get_language()):
            return _problem(
                request, title=_("The link is no longer valid"), message=error.message, status=410,
                signup_again=True,
            )  # fmt: skip
    except Conflict as error:
        return _problem(request, title=_("Already confirmed"), message=error.message, status=409)
    except ApplicationError as error:
        return _problem(
            request, title=_("The link is not valid"), message=error.message, status=400, signup_again=True
        )
    return render(
        request,
        "consent/confirmed.html",
        {"purpose": events[0].purpose if events else None, "purposes": [e.purpose for e in events]},
    )


@never_cache
@require_http_methods(["GET"])
def receipts(request: HttpRequest) -> HttpResponse:
    """The portal's download of every consent receipt (Kantara v1.1), for the confirmed address only."""
    # The portal session holds the request, not the address (requests_dsar.selectors).
    email = portal_session_email(request)
    if not email:
        return _problem(
            request,
            title=_("Open the portal first"),
            message=_("Follow the link in an email from us to open your privacy portal, then download."),
            status=403,
        )
    body = json.dumps(services.consent_receipts_for_email(email=email), ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="consent-receipts.json"'
    return response


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
        return render(request, "consent/unsubscribe.html", {"purpose": purpose})
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
