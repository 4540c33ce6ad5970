from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from .models import AuditChainVerification, AuditEvent
from .removal.admin import ReadOnlyAdminMixin
from .selectors import audit_chain_last_verification, audit_chain_last_verified


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: nothing in the product changes or deletes an audit event."""

    list_display = ("at", "actor_kind", "actor_id", "actor_role", "action", "target_type", "target_id", "seq")
    list_filter = ("actor_kind", "action", "target_type")
    search_fields = ("=target_id", "=actor_id", "action")
    date_hierarchy = "at"
    show_full_result_count = False

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        # Art. 32: staff see at a glance whether the trail was last found intact.
        last = audit_chain_last_verification()
        passed = audit_chain_last_verified()
        if last is not None and not last.ok:
            messages.error(
                request,
                _("The audit trail's hash chain was found broken on %(when)s at position %(seq)s.")
                % {"when": last.at.strftime("%Y-%m-%d %H:%M"), "seq": last.broken_seq},
            )
        elif passed is not None:
            messages.info(
                request,
                _("The audit trail's hash chain last passed verification on %(when)s.")
                % {"when": passed.strftime("%Y-%m-%d %H:%M")},
            )
        else:
            messages.warning(request, _("The audit trail's hash chain has not been verified yet."))
        return super().changelist_view(request, extra_context)


@admin.register(AuditChainVerification)
class AuditChainVerificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("at", "ok", "events_checked", "head_seq", "broken_seq", "problem")
    list_filter = ("ok",)
