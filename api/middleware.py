"""Errors answered outside DRF under ``/api/`` become problem documents too.

Django answers some requests before a DRF view runs: the project's input guard
(``core.middleware``: NUL bytes, invalid UTF-8), an unknown path (404), a CSRF
refusal or an unhandled error (500). Those answers are the site's HTML pages,
which a system cannot read; an API client gets RFC 9457 everywhere.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

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
