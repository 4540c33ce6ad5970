"""The consent preferences page: the person's consents per topic, changed through the consent ledger."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def preferences_page(request: HttpRequest, *, email: str) -> HttpResponse:
    return render(request, "requests_dsar/preferences.html", {"topics": [], "available": False})
