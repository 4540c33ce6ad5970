from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .models import ErasureJournalEntry


@admin.register(ErasureJournalEntry)
class ErasureJournalEntryAdmin(admin.ModelAdmin):
    """Read only: the journal is written by erasures and read by erasure_replay, never edited by hand."""

    list_display = ("reference", "erased_at", "short_hash")
    search_fields = ("reference",)
    date_hierarchy = "erased_at"
    ordering = ("-erased_at",)

    @admin.display(description=_("keyed hash"))
    def short_hash(self, entry: ErasureJournalEntry) -> str:
        return f"{entry.email_hash[:12]}…"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ErasureJournalEntry | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ErasureJournalEntry | None = None) -> bool:
        return False
