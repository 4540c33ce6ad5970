from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = _("Integration API")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The receivers of core.events that turn domain events into webhook deliveries.
        from . import schema  # noqa: F401  (the schema's description of the API key)
        from .webhooks import receivers  # noqa: F401
