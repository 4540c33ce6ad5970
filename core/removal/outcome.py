"""What a removal did (or, in a preview, would do), per declared model, in words a person reads."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext, override

from core.registry import PersonalData


@dataclass
class ModelOutcome:
    """One declared model: rows deleted, anonymised (and which fields were emptied), kept and why."""

    declaration: PersonalData
    deleted: int = 0
    anonymised: int = 0
    emptied: tuple[str, ...] = ()
    links_cut: int = 0
    # Why rows were kept (a sentence a person reads) -> how many.
    kept: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def label(self) -> str:
        return self.declaration.label

    @property
    def title(self) -> str:
        """What these rows are, in the person's words (the declaration's description)."""
        return str(self.declaration.description or self.declaration.model._meta.verbose_name_plural)

    def emptied_words(self) -> list[str]:
        names = []
        for name in self.emptied:
            fields = {f.name: f for f in self.declaration.model._meta.get_fields()}
            if name in fields:
                names.append(str(getattr(fields[name], "verbose_name", name)))
        return names

    @property
    def touched(self) -> bool:
        return bool(self.deleted or self.anonymised or self.links_cut or self.kept)


@dataclass
class RemovalOutcome:
    """The engine's answer: the same object for an erasure, a sweep batch, an admin removal and a preview."""

    dry_run: bool = False
    models: dict[str, ModelOutcome] = field(default_factory=dict)
    # (storage, name) of files that leave storage once the transaction commits.
    files: list[tuple[Any, str]] = field(default_factory=list)
    # Rows of models outside the register that went by their own on_delete rule
    # (emailed-link digests, admin log entries): counted, never shown to the person.
    other: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    # Labels of the targets that held rows when the removal began (before anything went).
    found: list[str] = field(default_factory=list)

    def line(self, declaration: PersonalData) -> ModelOutcome:
        if declaration.label not in self.models:
            self.models[declaration.label] = ModelOutcome(declaration)
        return self.models[declaration.label]

    # Compatible views, by model label (the access report and older callers use them).

    @property
    def erased(self) -> dict[str, int]:
        """Rows deleted per declared model: anonymised rows are not erased rows."""
        return {label: m.deleted for label, m in sorted(self.models.items()) if m.deleted}

    @property
    def anonymised(self) -> dict[str, int]:
        return {label: m.anonymised for label, m in sorted(self.models.items()) if m.anonymised}

    @property
    def kept(self) -> list[tuple[str, str]]:
        return [(label, why) for label, m in sorted(self.models.items()) for why in m.kept]

    @property
    def deleted_total(self) -> int:
        return sum(m.deleted for m in self.models.values())

    @property
    def anonymised_total(self) -> int:
        return sum(m.anonymised for m in self.models.values())

    def merge(self, other: RemovalOutcome) -> None:
        for line in other.models.values():
            mine = self.line(line.declaration)
            mine.deleted += line.deleted
            mine.anonymised += line.anonymised
            mine.links_cut += line.links_cut
            mine.emptied = tuple(dict.fromkeys(mine.emptied + line.emptied))
            for why, count in line.kept.items():
                mine.kept[why] += count
        self.files += other.files
        self.found = sorted(set(self.found) | set(other.found))
        for label, count in other.other.items():
            self.other[label] += count

    def describe(self, *, language: str | None = None) -> list[str]:
        """One line per declared model, in words: what went, what was anonymised, what was kept and why."""
        lines: list[str] = []

        def build() -> None:
            for line in sorted(self.models.values(), key=lambda m: m.title):
                if not line.touched:
                    continue
                parts = []
                if line.deleted:
                    parts.append(
                        (
                            ngettext("%(n)d would be deleted", "%(n)d would be deleted", line.deleted)
                            if self.dry_run
                            else ngettext("%(n)d deleted", "%(n)d deleted", line.deleted)
                        )
                        % {"n": line.deleted}
                    )
                if line.anonymised:
                    words = ", ".join(line.emptied_words())
                    text = (
                        ngettext("%(n)d would be anonymised", "%(n)d would be anonymised", line.anonymised)
                        if self.dry_run
                        else ngettext("%(n)d anonymised", "%(n)d anonymised", line.anonymised)
                    ) % {"n": line.anonymised}
                    if words:
                        text += " " + _("(emptied: %(fields)s)") % {"fields": words}
                    parts.append(text)
                if line.links_cut and not (line.deleted or line.anonymised):
                    parts.append(
                        ngettext(
                            "%(n)d link to the person cut", "%(n)d links to the person cut", line.links_cut
                        )
                        % {"n": line.links_cut}
                    )
                for why, count in line.kept.items():
                    parts.append(
                        ngettext("%(n)d kept: %(why)s", "%(n)d kept: %(why)s", count)
                        % {"n": count, "why": why}
                    )
                lines.append(f"{line.title}: " + "; ".join(parts))

        if language:
            with override(language):
                build()
        else:
            build()
        return lines
