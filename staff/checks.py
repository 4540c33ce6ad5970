"""System checks for staff access: `manage.py check` (and so `make test`) warns when an admin
action declares no permission beyond view, or when production runs without two-factor login."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register


def _action_items(model_admin: Any) -> list[tuple[str, Any]]:
    items = []
    for entry in model_admin.actions or ():
        function = entry if callable(entry) else getattr(model_admin.__class__, entry, None)
        if function is None:
            function = model_admin.admin_site.get_action(entry)
        name = entry if isinstance(entry, str) else getattr(function, "__name__", repr(entry))
        items.append((name, function))
    items += [(name, function) for name, function in model_admin.admin_site.actions if function]
    return items


@register(Tags.admin)
def check_admin_actions_declare_permissions(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """Issue 11 (found broken 1): an action without ``permissions`` runs for anyone who sees the list."""
    from django.contrib import admin

    problems = []
    for model, model_admin in admin.site._registry.items():
        for name, function in _action_items(model_admin):
            declared = set(getattr(function, "allowed_permissions", ()) or ())
            if not declared or declared == {"view"}:
                problems.append(
                    Warning(
                        f"The admin action {name!r} of {model._meta.label} needs no permission beyond view.",
                        hint="Use @admin.action(permissions=[...]) with the permission its effect needs "
                        "(core/permissions.py); see staff/admin.py for a third-party admin.",
                        obj=model_admin.__class__,
                        id="staff.W001",
                    )
                )
    return problems


@register(Tags.security, deploy=True)
def check_two_factor_required(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    if settings.STAFF_2FA_REQUIRED:
        return []
    return [
        Warning(
            "STAFF_2FA_REQUIRED is off: staff log in with a password alone.",
            hint="Leave STAFF_2FA_REQUIRED unset (on) in production; only the local demo turns it off.",
            id="staff.W002",
        )
    ]
