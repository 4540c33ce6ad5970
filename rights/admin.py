from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.removal.admin import ReadOnlyAdminMixin

from .models import ErasureJournalEntry


@admin.register(ErasureJournalEntry)
class ErasureJournalEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read only: the journal is written by erasures and read by erasure_replay, never edited by hand."""

    list_display = ("reference", "erased_at", "short_hash")
    search_fields = ("reference",)
    date_hierarchy = "erased_at"
    ordering = ("-erased_at",)

    @admin.display(description=_("keyed hash"))
    def short_hash(self, entry: ErasureJournalEntry) -> str:
        return f"{entry.email_hash[:12]}…"
