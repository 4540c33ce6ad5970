from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponseRedirect, JsonResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .selectors import health_status


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    status = health_status()
    return JsonResponse(status, status=200 if status["status"] == "ok" else 503)


@never_cache
@require_GET
def language_switch(request: HttpRequest, code: str) -> HttpResponseRedirect:
    """Show the site in ``code`` from now on, and go back to the page the link was on.

    A link, not Django's POST form to ``set_language``: that form needed a CSRF token
    on every public page, so every first visit to any page created a CSRF secret and
    set a cookie (issue 9, the portal under load). What a forged link can do here is
    switch a visitor's language, which the visitor sees and switches back; no data
    and no other setting is touched. The way back is the Referer, checked to be this
    site (no open redirect), never a query parameter: a page's link token stays out
    of URLs (README, "Hardening").
    """
    if code not in dict(settings.LANGUAGES):
        raise Http404("no such language")
    back = request.headers.get("Referer", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = "/"
    response = HttpResponseRedirect(back)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        code,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response
