from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Audit and operations")

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
        from .schedules import sync_periodic_tasks

        # Like admin.py: every app's personal_data.py declares what it holds.
        autodiscover_modules("personal_data")
        post_migrate.connect(sync_periodic_tasks, sender=self)
        _harden_admin()
        from .logging import configure_structlog

        configure_structlog()


def _harden_admin() -> None:
    """Every registered ModelAdmin (ours and django-celery-beat's) takes JSON strictly.

    Runs after django.contrib.admin's autodiscover (it is first in INSTALLED_APPS),
    so every admin is registered by now.
    """
    from django.contrib import admin
    from django.db import models

    from .forms import StrictJSONField

    for model_admin in admin.site._registry.values():
        model_admin.formfield_overrides.setdefault(models.JSONField, {"form_class": StrictJSONField})
