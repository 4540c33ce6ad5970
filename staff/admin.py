"""Staff access in the admin: django-celery-beat's actions behind the permissions their effects need."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django_celery_beat import admin as beat_admin
from django_celery_beat.models import PeriodicTask

from core.permissions import RUN_RETENTION, user_may


def _guarded(name: str, permission: str) -> Any:
    """django-celery-beat's action ``name``, declared with ``permission`` (its own declare none)."""
    original = getattr(beat_admin.PeriodicTaskAdmin, name)

    def action(self: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[PeriodicTask]) -> Any:
        return original(self, request, queryset)

    action.__name__ = name
    return admin.action(description=original.short_description, permissions=[permission])(action)


admin.site.unregister(PeriodicTask)


@admin.register(PeriodicTask)
class PeriodicTaskAdmin(beat_admin.PeriodicTaskAdmin):
    """Switching the retention sweep off stops the storage limitation promise (Art. 5(1)(e)):
    only who may change the schedule toggles it; running a task now (a sweep among them)
    needs the right to run a sweep as well."""

    enable_tasks = _guarded("enable_tasks", "change")
    disable_tasks = _guarded("disable_tasks", "change")
    toggle_tasks = _guarded("toggle_tasks", "change")
    run_tasks = _guarded("run_tasks", "run")

    def has_run_permission(self, request: HttpRequest) -> bool:
        return self.has_change_permission(request) and user_may(request, RUN_RETENTION)
