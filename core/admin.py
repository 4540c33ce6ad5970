from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: nothing in the product changes or deletes an audit event."""

    list_display = ("at", "actor_kind", "actor_id", "action", "target_type", "target_id")
    list_filter = ("actor_kind", "action", "target_type")
    search_fields = ("=target_id", "=actor_id", "action")
    date_hierarchy = "at"
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False
