"""Staff downloads of a person's data: each behind its own permission, each recorded."""

from __future__ import annotations

from base64 import b32encode

import qrcode
import qrcode.image.svg
from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods
from django_otp import login as otp_login
from django_otp import verify_token

from core.audit import Actor, audit_record
from core.permissions import DOWNLOAD_ACCESS_ANSWER, user_may
from requests_dsar.models import DataSubjectRequest

from . import services
from .forms import TokenForm
from .selectors import staff_has_authenticator, staff_two_factor_devices


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("admin:index")


def _page(request: HttpRequest, template: str, context: dict[str, object]) -> TemplateResponse:
    context = {**admin.site.each_context(request), "next": _next_url(request), **context}
    return TemplateResponse(request, template, context)


@never_cache
@sensitive_post_parameters("token")
@require_http_methods(["GET", "POST"])
@staff_member_required
def two_factor_enrol(request: HttpRequest) -> HttpResponse:
    """First login: scan the QR code into an authenticator app, type its first code, keep the backup codes."""
    if request.user.is_verified():
        return HttpResponseRedirect(_next_url(request))
    if staff_has_authenticator(user=request.user):
        # A password alone never replaces an enrolled app: that would make the
        # second factor worthless. A lost phone is reset by the privacy officer.
        return HttpResponseRedirect(f"{reverse('staff:two_factor_verify')}?{request.GET.urlencode()}")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = services.two_factor_enrolment_confirm(
                user=request.user, token=form.cleaned_data["token"], actor=Actor.from_request(request)
            )
        except ValidationError as error:
            form.add_error("token", error)
        else:
            otp_login(request, device)
            request.session.cycle_key()  # a new privilege, a new session key
            return _page(
                request, "staff/backup_codes.html", {"title": _("Your backup codes"), "codes": codes}
            )
    device = services.two_factor_enrolment_start(user=request.user)
    svg = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage).to_string(
        encoding="unicode"
    )
    return _page(
        request,
        "staff/two_factor_enrol.html",
        {
            "title": _("Set up two-factor login"),
            "form": form,
            # Our own SVG, made from our own key: nothing typed by anyone is in it.
            "qr_svg": mark_safe(svg),  # noqa: S308
            "secret": b32encode(device.bin_key).decode(),
        },
    )


@never_cache
@sensitive_post_parameters("token")
@require_http_methods(["GET", "POST"])
@staff_member_required
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """Second step of every login: the code from the app, or one backup code (used up by it)."""
    if request.user.is_verified():
        return HttpResponseRedirect(_next_url(request))
    if not staff_has_authenticator(user=request.user):
        return HttpResponseRedirect(f"{reverse('staff:two_factor_enrol')}?{request.GET.urlencode()}")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        for device in staff_two_factor_devices(user=request.user):
            # django-otp checks the code, throttles guessing and spends a backup code.
            verified = verify_token(request.user, device.persistent_id, form.cleaned_data["token"])
            if verified is not None:
                otp_login(request, verified)
                request.session.cycle_key()
                return HttpResponseRedirect(_next_url(request))
        form.add_error("token", _("That code is not right, or too many codes were tried: wait a little."))
    return _page(request, "staff/two_factor_verify.html", {"title": _("Two-factor login"), "form": form})


@never_cache
@require_GET
@staff_member_required
def access_answer_download(request: HttpRequest, pk: int) -> FileResponse:
    """The prepared answer to an access request (Art. 15(3)), for the staff who check it before it goes.

    The zip is the person's whole file: only who may download it gets it (not an
    auditor, who reads the request but takes no one's data home), and the
    download is itself recorded (Art. 32).
    """
    if not user_may(request, DOWNLOAD_ACCESS_ANSWER):
        raise PermissionDenied
    dsar = get_object_or_404(DataSubjectRequest, pk=pk, redacted_at__isnull=True)
    if not dsar.answer_file:
        raise Http404
    try:
        handle = dsar.answer_file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    audit_record(
        actor=Actor.from_request(request), action="dsar.staff_download", target=dsar, fields=["answer_file"]
    )
    response = FileResponse(handle, as_attachment=True, filename=f"{dsar.reference}.zip")
    response["Content-Type"] = "application/zip"
    return response
