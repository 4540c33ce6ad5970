from __future__ import annotations

from django.contrib import admin

from .admin_mixins import ReadOnlyAdminMixin
from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: nothing in the product changes or deletes an audit event."""

    list_display = ("at", "actor_kind", "actor_id", "action", "target_type", "target_id")
    list_filter = ("actor_kind", "action", "target_type")
    search_fields = ("=target_id", "=actor_id", "action")
    date_hierarchy = "at"
    show_full_result_count = False
