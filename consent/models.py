from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SuppressionEntry(models.Model):
    """An address that must never be subscribed again without a new, fresh consent.

    Holds only a keyed hash of the address (core.crypto.email_hash with purpose
    ``SUPPRESSION_PURPOSE``), so an opt-out or objection (Art. 21(3)) outlives
    the person's erasure (Art. 17) without keeping the address itself.
    """

    SUPPRESSION_PURPOSE = "suppression"

    class Reason(models.TextChoices):
        OPT_OUT = "opt_out", _("Unsubscribed from marketing")
        OBJECTION = "objection", _("Objected to processing")
        ERASURE = "erasure", _("Asked to be erased")

    email_hash = models.CharField(_("keyed hash of the address"), max_length=64, unique=True)
    reason = models.CharField(_("reason"), max_length=12, choices=Reason.choices)
    created_at = models.DateTimeField(_("added"), default=timezone.now)

    class Meta:
        verbose_name = _("suppression entry")
        verbose_name_plural = _("suppression list")

    def __str__(self) -> str:
        return f"{self.get_reason_display()} {self.created_at:%Y-%m-%d}"
