"""Staff access in the admin.

Third-party admins whose actions declare no permission (django-celery-beat's,
django-axes') are registered again with the permission each effect needs, and
the staff user list gains the privacy officer's two recoveries: reset the
two-factor login and unlock a locked-out login, each recorded in the audit trail.
"""

from __future__ import annotations

from typing import Any

from axes import admin as axes_admin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django_celery_beat import admin as beat_admin
from django_celery_beat.models import PeriodicTask
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.audit import Actor
from core.permissions import RUN_RETENTION, user_may

from . import services


def _guarded(admin_class: type[admin.ModelAdmin], name: str, permission: str) -> Any:
    """The library's action ``name``, declared with ``permission`` (the library declares none)."""
    original = getattr(admin_class, name)

    def action(self: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> Any:
        return original(self, request, queryset)

    action.__name__ = name
    return admin.action(description=original.short_description, permissions=[permission])(action)


admin.site.unregister(PeriodicTask)


@admin.register(PeriodicTask)
class PeriodicTaskAdmin(beat_admin.PeriodicTaskAdmin):
    """Switching the retention sweep off stops the storage limitation promise (Art. 5(1)(e)):
    only who may change the schedule toggles it; running a task now (a sweep among them)
    needs the right to run a sweep as well."""

    enable_tasks = _guarded(beat_admin.PeriodicTaskAdmin, "enable_tasks", "change")
    disable_tasks = _guarded(beat_admin.PeriodicTaskAdmin, "disable_tasks", "change")
    toggle_tasks = _guarded(beat_admin.PeriodicTaskAdmin, "toggle_tasks", "change")
    run_tasks = _guarded(beat_admin.PeriodicTaskAdmin, "run_tasks", "run")

    def has_run_permission(self, request: HttpRequest) -> bool:
        return self.has_change_permission(request) and user_may(request, RUN_RETENTION)


for _model in (AccessAttempt, AccessLog, AccessFailureLog):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


class _LoginRecordAdmin:
    """Login records are personal data with a retention policy ("staff-logins"): the nightly
    sweep removes them through the one removal engine, so the admin shows them and never
    deletes one (issue 8: no stock delete on a model that holds personal data)."""

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AccessAttempt)
class AccessAttemptAdmin(_LoginRecordAdmin, axes_admin.AccessAttemptAdmin):
    """Failed logins counted for the lockout. Unlocking lifts the lockout they cause (Art. 32),
    recorded in the audit trail; it is the one way an attempt leaves before the sweep."""

    actions = ("unlock_attempts",)

    @admin.action(description=_("Unlock: forget these failed attempts"), permissions=["unlock"])
    def unlock_attempts(self, request: HttpRequest, queryset: QuerySet) -> None:
        removed = services.staff_attempts_unlock(attempts=queryset, actor=Actor.from_request(request))
        self.message_user(
            request, _("%(count)d failed attempts forgotten.") % {"count": removed}, messages.SUCCESS
        )

    def has_unlock_permission(self, request: HttpRequest) -> bool:
        # The privacy officer's recovery, as on the staff user list: who may change users.
        return request.user.has_perm(f"{User._meta.app_label}.change_{User._meta.model_name}")


@admin.register(AccessLog)
class AccessLogAdmin(_LoginRecordAdmin, axes_admin.AccessLogAdmin):
    pass


@admin.register(AccessFailureLog)
class AccessFailureLogAdmin(_LoginRecordAdmin, axes_admin.AccessFailureLogAdmin):
    pass


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    list_display = (*UserAdmin.list_display, "role", "two_factor")
    actions = ("two_factor_reset", "unlock")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        enrolled = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        return super().get_queryset(request).prefetch_related("groups").annotate(has_totp=Exists(enrolled))

    @admin.display(description=_("role"))
    def role(self, user: Any) -> str:
        return ", ".join(group.name for group in user.groups.all()) or "-"

    @admin.display(description=_("two-factor login"), boolean=True)
    def two_factor(self, user: Any) -> bool:
        return user.has_totp

    @admin.action(
        description=_("Reset two-factor login (lost phone): enrol again at next login"),
        permissions=["change"],
    )
    def two_factor_reset(self, request: HttpRequest, queryset: QuerySet) -> None:
        actor = Actor.from_request(request)
        for user in queryset:
            services.two_factor_reset(user=user, actor=actor)
        self.message_user(
            request,
            _("Two-factor login reset for %(count)d users; each sets it up again at the next login.")
            % {"count": len(queryset)},
            messages.SUCCESS,
        )

    @admin.action(description=_("Unlock the login after failed attempts"), permissions=["change"])
    def unlock(self, request: HttpRequest, queryset: QuerySet) -> None:
        actor = Actor.from_request(request)
        for user in queryset:
            services.staff_unlock(user=user, actor=actor)
        self.message_user(
            request, _("%(count)d logins unlocked.") % {"count": len(queryset)}, messages.SUCCESS
        )
