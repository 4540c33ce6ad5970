"""The privacy officer's dashboard as the admin's front page (for staff with ``view_dashboard``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.admin import AdminSite
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from .dashboard import dashboard_context


def install_dashboard(site: AdminSite) -> None:
    """Make the dashboard the front page of ``site`` for those allowed; everyone else keeps the model list.

    ``?models=1`` shows the stock list to the privacy officer too; the dashboard itself keeps the
    admin's side navigation to every register.
    """
    stock_index: Callable[..., HttpResponse] = site.index

    def index(request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        if request.user.has_perm("accountability.view_dashboard") and "models" not in request.GET:
            return TemplateResponse(request, "admin/accountability/dashboard.html", {
                **site.each_context(request),
                "title": _("What needs a decision"),
                **dashboard_context(),
            })  # fmt: skip
        return stock_index(request, extra_context)

    site.index = index  # type: ignore[method-assign]
