from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RequestsDsarConfig(AppConfig):
    name = "requests_dsar"
    verbose_name = _("Data-subject requests")

    def ready(self) -> None:
        from . import signals  # noqa: F401  (connects the receivers)
