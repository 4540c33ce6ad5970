from __future__ import annotations

from typing import Any

from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_roles_after_the_last_app(sender: AppConfig, **kwargs: Any) -> None:
    """Fill the role groups once per migrate, after every app's permissions exist.

    post_migrate is sent once per app with models, in INSTALLED_APPS order, and
    auth creates each app's permissions on its own signal: only after the last
    one is every permission there, the ones of apps added after this one included.
    """
    with_models = [config for config in apps.get_app_configs() if config.models_module is not None]
    if with_models and sender is with_models[-1]:
        from .roles import roles_sync

        roles_sync(using=kwargs.get("using"))


class StaffConfig(AppConfig):
    name = "staff"
    verbose_name = _("Staff access")

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)

        post_migrate.connect(_sync_roles_after_the_last_app, dispatch_uid="staff.roles_sync")
