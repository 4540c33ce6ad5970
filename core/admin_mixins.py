"""Admin doors that go through the services, so the admin cannot skip validation or audit.

Everything about removal in the admin (no stock delete, the "Erase" action, the
read-only records of what happened) lives with the removal engine, in
``core.removal.admin``.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

from .audit import Actor, audit_record, audit_record_many


class ServiceAdmin(admin.ModelAdmin):
    """``save_model`` calls ``create_service`` or ``update_service`` of the subclass."""

    create_service: Callable[..., models.Model] | None = None
    update_service: Callable[..., models.Model] | None = None
    # The keyword the update service takes the instance under ("contact", ...).
    instance_kwarg: str = ""
    audit_views = True

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        actor = Actor.from_request(request)
        fields = [f for f in form.cleaned_data if f in {x.name for x in obj._meta.fields}]
        if change:
            changes = {f: form.cleaned_data[f] for f in form.changed_data if f in fields}
            saved = type(self).update_service(actor=actor, changes=changes, **{self.instance_kwarg: obj})
        else:
            values = {f: form.cleaned_data[f] for f in fields}
            saved = type(self).create_service(actor=actor, **values)
        obj.pk = saved.pk
        obj._state.adding = False

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        # Art. 32 and the policy's promise against unauthorised access: a staff
        # member opening a person's record is itself recorded.
        if self.audit_views and request.method == "GET" and response.status_code == 200:
            audit_record(
                actor=Actor.from_request(request),
                action=f"{self.model._meta.model_name}.view",
                target_type=self.model._meta.label_lower,
                target_id=object_id,
            )
        return response

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        # A list reveals people too; record that it was seen (not what was searched:
        # the search words may themselves be personal data).
        if self.audit_views and request.method == "GET" and response.status_code == 200:
            audit_record(
                actor=Actor.from_request(request),
                action=f"{self.model._meta.model_name}.list",
                target_type=self.model._meta.label_lower,
            )
        return response


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_export_response(
    *,
    request: HttpRequest,
    queryset: models.QuerySet,
    columns: Iterable[tuple[str, str]],
    filename: str,
) -> HttpResponse:
    """Stream a CSV of ``queryset`` and audit the export, one event per row exported."""
    columns = list(columns)
    rows = list(queryset.values_list("pk", *[path for path, _ in columns]))
    audit_record_many(
        actor=Actor.from_request(request),
        action=f"{queryset.model._meta.model_name}.export",
        model=queryset.model,
        ids=[row[0] for row in rows],
    )
    writer = csv.writer(_Echo())
    lines = [writer.writerow([str(label) for _, label in columns])]
    lines += (writer.writerow(["" if v is None else v for v in row[1:]]) for row in rows)
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
