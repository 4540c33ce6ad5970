from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsentConfig(AppConfig):
    name = "consent"
    verbose_name = _("Consent and legal bases")

    def ready(self) -> None:
        from . import signals  # noqa: F401
