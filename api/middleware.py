"""Errors answered outside DRF under ``/api/`` become problem documents too.

Django answers some requests before a DRF view runs: the project's input guard
(``core.middleware``: NUL bytes, invalid UTF-8), an unknown path (404), a CSRF
refusal or an unhandled error (500). Those answers are the site's HTML pages,
which a system cannot read; an API client gets RFC 9457 everywhere.

Below: the middleware a browser needs and the JSON API does not, skipped for it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from csp.middleware import CSPMiddleware
from django.contrib.auth import middleware as auth_middleware
from django.contrib.messages import middleware as messages_middleware
from django.http import HttpRequest, HttpResponse
from django_otp import middleware as otp_middleware

from staff import middleware as staff_middleware

from .problems import _TITLES, PROBLEM_CONTENT_TYPE, TYPE_PREFIX

_KIND_BY_STATUS = {
    400: ("malformed-request", "invalid-input"),
    403: ("forbidden", "forbidden"),
    404: ("not-found", "not-found"),
    405: ("method-not-allowed", "method-not-allowed"),
    413: ("payload-too-large", "payload-too-large"),
    429: ("rate-limited", "rate-limited"),
}


class ApiProblemMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path_info.startswith("/api/") or response.status_code < 400:
            return response
        content_type = response.get("Content-Type", "")
        if content_type.startswith(("application/problem+json", "application/json")):
            return response
        kind, title_kind = _KIND_BY_STATUS.get(response.status_code, ("server-error", "server-error"))
        title = _TITLES.get(title_kind, _TITLES["server-error"])()
        body = {"type": TYPE_PREFIX + kind, "title": str(title), "status": response.status_code}
        problem = HttpResponse(
            json.dumps(body), status=response.status_code, content_type=PROBLEM_CONTENT_TYPE
        )
        if "Retry-After" in response:
            problem["Retry-After"] = response["Retry-After"]
        return problem


# --- What a browser needs and the JSON API does not ------------------------------------------

# The JSON endpoints. Not /api/docs/ and /api/redoc/: those are HTML pages for a browser,
# and keep every protection a page has.
API_PREFIX = "/api/v1/"
# The policy of a JSON answer: it loads nothing and may not be framed (OWASP REST Security).
API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'"


def is_api_call(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def not_for_api(middleware: type) -> type:
    """``middleware`` as it is for every page and the admin, skipped for the JSON API.

    A call to /api/v1/ is authenticated by its API key alone (api.authentication):
    it has no staff login to limit, no second factor and no flash messages, and
    answers JSON rather than a page. The middleware for those did work on every call
    all the same (issue 10: the mail tool checks consent before every send): the
    lazy user resolved through the session store, django-csp's policy built. Every
    other request runs them as before.

    A subclass of the original, so the checks that look for it (the admin's
    admin.E408 to E410) still find it.
    """

    def __call__(self: Any, request: HttpRequest) -> HttpResponse:
        if is_api_call(request):
            return self.get_response(request)
        return middleware.__call__(self, request)

    def hook(name: str) -> Callable[..., Any]:
        original = getattr(middleware, name)

        def skipping(self: Any, request: HttpRequest, *args: Any) -> Any:
            return None if is_api_call(request) else original(self, request, *args)

        skipping.__name__ = name
        return skipping

    namespace: dict[str, Any] = {
        "__call__": __call__,
        "__module__": __name__,
        "__doc__": f"{middleware.__module__}.{middleware.__qualname__}, skipped for {API_PREFIX}.",
        # Sync only: the project runs under WSGI; Django adapts the chain around it if not.
        "async_capable": False,
        "sync_capable": True,
    }
    for name in ("process_view", "process_exception", "process_template_response"):
        if hasattr(middleware, name):
            namespace[name] = hook(name)
    return type(middleware.__name__, (middleware,), namespace)


class ContentSecurityPolicyMiddleware(not_for_api(CSPMiddleware)):  # type: ignore[misc]
    """django-csp's policy for pages; for a JSON answer a fixed, stricter one, built once."""

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_api_call(request):
            return super().__call__(request)
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", API_CONTENT_SECURITY_POLICY)
        return response


AuthenticationMiddleware = not_for_api(auth_middleware.AuthenticationMiddleware)
OTPMiddleware = not_for_api(otp_middleware.OTPMiddleware)
StaffSessionMiddleware = not_for_api(staff_middleware.StaffSessionMiddleware)
StaffTwoFactorMiddleware = not_for_api(staff_middleware.StaffTwoFactorMiddleware)
MessageMiddleware = not_for_api(messages_middleware.MessageMiddleware)
