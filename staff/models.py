"""Staff access: the custom permissions that no model's add/change/delete/view describes."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.permissions import CUSTOM_PERMISSIONS


class StaffPermission(models.Model):
    """No table: only the holder of the custom permissions in ``core.permissions``.

    Kept in this one app so that granting an effect (publish, export, run, download)
    never needs a migration in the app whose admin checks it.
    """

    class Meta:
        managed = False
        default_permissions = ()
        permissions = list(CUSTOM_PERMISSIONS.items())
        verbose_name = _("staff permission")
        verbose_name_plural = _("staff permissions")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)
