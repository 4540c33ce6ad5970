"""The erasure journal: what lets an erasure survive the restore of a backup."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ErasureJournalEntry(models.Model):
    """One erased identifier, held only as a keyed hash (core.crypto.email_hash).

    Art. 17 and Art. 5(1)(e): a backup restored after an erasure would bring
    the person back; ``erasure_replay`` finds the rows whose address hashes to
    an entry here and erases them again. The hash cannot be turned back into
    the address without ``HASH_KEY``, and the entry holds nothing else about
    the person.
    """

    HASH_PURPOSE = "erasure_journal"

    email_hash = models.CharField(_("keyed hash of the address"), max_length=64, db_index=True)
    # The request's own reference (e.g. "DSAR-2026-0042"), never a name or address.
    reference = models.CharField(_("reference"), max_length=64, blank=True)
    erased_at = models.DateTimeField(_("erased"), default=timezone.now)

    class Meta:
        ordering = ["erased_at", "id"]
        verbose_name = _("erasure journal entry")
        verbose_name_plural = _("erasure journal")
        constraints = [
            # The same erasure imported twice (from an exported journal) is one entry.
            models.UniqueConstraint(
                fields=["email_hash", "reference"], name="erasure_journal_hash_reference_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference or '-'} {self.erased_at:%Y-%m-%d}"
