"""The portal: thin doors into the request services, usable without JavaScript."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from core.audit import Actor, client_ip
from core.errors import ApplicationError

from . import deadlines, selectors, services
from .errors import LinkInvalid
from .forms import ConfirmForm, RequestForm
from .models import DataSubjectRequest, RequestToken
from .ratelimit import rate_limit_hit

# The portal session holds the id of the request whose link the browser followed,
# never the address (issue 8, item 9): the address stays in the database, where
# erasure and redaction reach it. A session that outlives its purpose is cleared
# by the beat task sessions_clear_expired.
SESSION_REQUEST = selectors.PORTAL_SESSION_REQUEST


def _rate_limited(request: HttpRequest, template: str, context: dict) -> HttpResponse:
    context["rate_limited"] = _(
        "You have tried this too many times in a short while. Please wait an hour and try again, "
        "or write to us by email."
    )
    return render(request, template, context, status=429)


def start(request: HttpRequest) -> HttpResponse:
    # The consent app publishes the privacy notice; until it has a page, the site's front page.
    notice_url = next(
        (reverse(n) for n in ("consent:notice", "consent:notice_current") if _has_route(n)), "/"
    )
    return render(request, "requests_dsar/start.html", {"notice_url": notice_url})


def _has_route(name: str) -> bool:
    from django.urls import NoReverseMatch

    try:
        reverse(name)
    except NoReverseMatch:
        return False
    return True


@never_cache
@require_http_methods(["GET", "POST"])
def request_new(request: HttpRequest) -> HttpResponse:
    # A link may preselect the kind of request; anything else preselects nothing.
    kind = request.GET.get("type", "")
    form = RequestForm(
        request.POST or None, initial={"type": kind if kind in DataSubjectRequest.Type.values else ""}
    )
    if request.method == "POST":
        ip = client_ip(request) or ""
        email_key = (request.POST.get("email") or "").strip().lower()
        # Both counters move on every attempt, so neither tells which limit was hit first.
        over_ip = rate_limit_hit("submit_ip", ip)
        over_email = rate_limit_hit("submit_email", email_key)
        if over_ip or over_email:
            return _rate_limited(request, "requests_dsar/request_form.html", {"form": form})
        if form.is_valid():
            try:
                services.request_submit(
                    **form.cleaned_data, language=get_language() or "nb", actor=Actor.subject(ip)
                )
            except ValidationError as error:
                for field, messages in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, messages)
            else:
                # The same answer whether the address is known, new or repeated.
                return redirect("requests_dsar:request_sent")
        return render(request, "requests_dsar/request_form.html", {"form": form}, status=400)
    return render(request, "requests_dsar/request_form.html", {"form": form})


def request_sent(request: HttpRequest) -> HttpResponse:
    hours = int(services.link_lifetime(RequestToken.Purpose.VERIFY).total_seconds() // 3600)
    return render(request, "requests_dsar/request_sent.html", {"hours": hours})


def _link_error(request: HttpRequest, error: ApplicationError, status: int = 400) -> HttpResponse:
    return render(request, "requests_dsar/link_error.html", {"message": error.message}, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest, token: str) -> HttpResponse:
    ip = client_ip(request) or ""
    if rate_limit_hit("verify_ip", ip):
        return _rate_limited(request, "requests_dsar/link_error.html", {})
    try:
        found = services.request_link_check(token=token, purpose=RequestToken.Purpose.VERIFY)
    except LinkInvalid as error:
        return _link_error(request, error)
    if request.method == "GET":
        return render(request, "requests_dsar/verify.html", {"form": ConfirmForm(), "dsar": found})
    if rate_limit_hit("verify_email", found.email):
        return _rate_limited(request, "requests_dsar/link_error.html", {})
    try:
        dsar = services.request_verify(token=token, actor=Actor.subject(ip))
    except LinkInvalid as error:
        return _link_error(request, error)
    _remember(request, dsar)
    return redirect("requests_dsar:status")


def _remember(request: HttpRequest, dsar: DataSubjectRequest) -> None:
    # The browser that followed an emailed link may see that request, and the
    # consents of that address, for this session only.
    request.session.cycle_key()
    request.session[SESSION_REQUEST] = dsar.pk
    # Art. 5(1)(e): the portal session lasts as long as a visit, not the weeks of a staff login.
    request.session.set_expiry(settings.DSAR_PORTAL_SESSION_MINUTES * 60)


@never_cache
def status_link(request: HttpRequest, token: str) -> HttpResponse:
    if rate_limit_hit("link_ip", client_ip(request) or ""):
        return _rate_limited(request, "requests_dsar/link_error.html", {})
    try:
        dsar = services.request_link_check(token=token, purpose=RequestToken.Purpose.STATUS)
    except LinkInvalid as error:
        return _link_error(request, error)
    _remember(request, dsar)
    # Off the token URL at once, so it does not linger in history or Referer headers.
    return redirect("requests_dsar:status")


def _session_request(request: HttpRequest) -> DataSubjectRequest | None:
    return selectors.portal_session_request(request)


@never_cache
@require_http_methods(["GET", "POST"])
def status(request: HttpRequest) -> HttpResponse:
    dsar = _session_request(request)
    if dsar is None:
        return render(request, "requests_dsar/status_none.html", status=403)
    notice = ""
    if request.method == "POST":
        actor = Actor.subject(client_ip(request))
        try:
            if request.POST.get("action") == "withdraw":
                dsar = services.request_withdraw(request=dsar, actor=actor)
                notice = _("Your request is withdrawn.")
            elif request.POST.get("action") == "download_link":
                services.request_download_link_send(request=dsar, actor=actor)
                notice = _("We have emailed you a new download link.")
        except ApplicationError as error:
            notice = error.message
    return render(
        request,
        "requests_dsar/status.html",
        {
            "dsar": dsar,
            "events": selectors.request_public_events(request=dsar),
            "overdue": dsar.is_open and deadlines.is_overdue(dsar.due_date),
            "notice": notice,
        },
    )


@never_cache
def download(request: HttpRequest, token: str) -> HttpResponse:
    if rate_limit_hit("link_ip", client_ip(request) or ""):
        return _rate_limited(request, "requests_dsar/link_error.html", {})
    try:
        dsar = services.request_download(token=token, actor=Actor.subject(client_ip(request)))
    except LinkInvalid as error:
        return _link_error(request, error)
    response = FileResponse(dsar.answer_file.open("rb"), as_attachment=True, filename=f"{dsar.reference}.zip")
    response["Content-Type"] = "application/zip"
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    from .preferences import preferences_page

    dsar = _session_request(request)
    if dsar is None:
        return render(request, "requests_dsar/status_none.html", status=403)
    return preferences_page(request, email=dsar.email)
