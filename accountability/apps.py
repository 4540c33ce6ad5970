"""Accountability (Art. 5(2)): the registers a privacy officer shows the authority.

An app of its own, not part of ``core``: ``core`` holds what every app needs
(the registry, the audit trail, events); these registers are readers of that
registry and of the other apps (recipients, disclosures, breaches, the records
of processing, the dashboard), and nothing else depends on them.
"""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountabilityConfig(AppConfig):
    name = "accountability"
    verbose_name = _("Accountability")

    def ready(self) -> None:
        from django.contrib import admin

        from . import checks, receivers  # noqa: F401  (registers the check and the event receivers)
        from .views import install_dashboard

        install_dashboard(admin.site)
