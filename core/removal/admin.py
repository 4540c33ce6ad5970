"""The admin's removal door: no stock delete, an "Erase" action behind a confirmation page.

Django's own delete (the button and the bulk "delete selected") runs the
collector: no holds, no guards, no journal, no suppression, no audit, no
files. A model that holds personal data therefore has none (``NoStockDeleteMixin``);
Contact, JobApplication and Organisation get "Erase" (``EraseActionMixin``),
which shows the engine's preview (what goes, what is anonymised, what is kept
and why) and, once confirmed, calls the erasure service. Records of what
happened (the audit trail, the ledger, the journal, run history) are read only
(``ReadOnlyAdminMixin``). This module is the one home of these mixins.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.audit import Actor
from core.errors import ApplicationError

from .outcome import RemovalOutcome


class NoStockDeleteMixin:
    """A model that holds personal data: no delete button, no bulk "delete selected".

    Removal goes through the removal engine only (core.removal), so no door can
    forget a hold, a guard, the journal or the files.
    """

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdminMixin(NoStockDeleteMixin):
    """A record of what happened (audit trail, ledger, journal, run history, legal duty): seen,
    never added, changed or deleted through the admin. Its rows leave, if ever, through the
    removal engine or their own retention, never by a click."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class EraseActionMixin(NoStockDeleteMixin):
    """Adds the "erase" action: a confirmation page with the engine's preview, then the service.

    The subclass names the service and its preview; both take the selected
    queryset under ``erase_keyword`` (the service also an ``actor``).
    """

    erase_service: ClassVar[Callable[..., RemovalOutcome]]
    erase_preview: ClassVar[Callable[..., RemovalOutcome]]
    erase_keyword: ClassVar[str] = "queryset"

    def has_erase_permission(self, request: HttpRequest) -> bool:
        # Erasing is the effect of a delete: the model's delete permission grants it.
        opts = self.model._meta  # type: ignore[attr-defined]
        return request.user.has_perm(f"{opts.app_label}.delete_{opts.model_name}")

    @admin.action(permissions=["erase"], description=gettext_lazy("Erase the selected records…"))
    def erase_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        service = type(self).erase_service
        preview = type(self).erase_preview
        if request.POST.get("post") == "yes":
            try:
                outcome = service(**{self.erase_keyword: queryset}, actor=Actor.from_request(request))
            except ApplicationError as error:
                self.message_user(request, error.message, messages.ERROR)  # type: ignore[attr-defined]
                return None
            for line in outcome.describe():
                self.message_user(request, line, messages.INFO)  # type: ignore[attr-defined]
            self.message_user(  # type: ignore[attr-defined]
                request,
                _("Erased: %(deleted)d records deleted, %(anonymised)d anonymised.")
                % {"deleted": outcome.deleted_total, "anonymised": outcome.anonymised_total},
                messages.SUCCESS,
            )
            return None
        outcome = preview(**{self.erase_keyword: queryset})
        opts = self.model._meta  # type: ignore[attr-defined]
        context = {
            **self.admin_site.each_context(request),  # type: ignore[attr-defined]
            "title": _("Erase: what goes, what is anonymised, what is kept"),
            "opts": opts,
            "queryset": queryset,
            "count": queryset.count(),
            "lines": outcome.describe(),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "selected": list(queryset.values_list("pk", flat=True)),
        }
        return TemplateResponse(request, "admin/removal/erase_confirmation.html", context)
