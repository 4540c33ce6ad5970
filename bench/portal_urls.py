"""The project's URLs plus /bench/constant: a bare Django view, the baseline of bench_portal.

It passes through the same middleware as every portal page (security headers, CSP,
sessions, CSRF, logging), so the ratio measures what the pages themselves cost.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import urlpatterns as project


def constant(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/constant", constant), *project]
