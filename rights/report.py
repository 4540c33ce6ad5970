"""The sections of the access report (Art. 15): one per registered model holding rows of the person."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from html import escape
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from core.registry import Erasure, registry

from .vocabulary import category_label, purpose_label, recipient_label


@dataclass(frozen=True)
class ReportSection:
    label: str
    title: str
    description: str
    category: str
    category_label: str
    purposes: list[tuple[str, str]]
    source: str
    recipients: list[tuple[str, str]]
    retention: str
    kept_because: str
    # (name in the row, label for a person)
    fields: list[tuple[str, str]]
    rows: list[dict[str, Any]]
    choices: dict[str, dict[Any, str]]


def build_sections(addresses: Sequence[str]) -> list[ReportSection]:
    """One ``.values()`` query per findable registered model; no query per row."""
    sections = []
    for declaration in registry.personal():
        if not declaration.findable:
            continue
        rows = declaration.export(addresses)
        if not rows:
            continue
        names = declaration.fields_to_export()[1:]  # without the pk, which means nothing to a person
        for row in rows:
            row.pop("pk", None)
        fields, choices = _describe_fields(declaration.model, names)
        sections.append(
            ReportSection(
                label=declaration.label,
                title=str(declaration.model._meta.verbose_name_plural).capitalize(),
                description=str(declaration.description),
                category=declaration.category,
                category_label=category_label(declaration.category),
                purposes=[(c, purpose_label(c)) for c in declaration.purposes],
                source=str(declaration.source),
                recipients=[(c, recipient_label(c)) for c in declaration.recipients],
                retention=str(declaration.retention_note),
                kept_because=str(declaration.kept_because) if declaration.erasure is Erasure.KEEP else "",
                fields=fields,
                rows=rows,
                choices=choices,
            )
        )
    return sections


def _describe_fields(
    model: type[models.Model], names: Sequence[str]
) -> tuple[list[tuple[str, str]], dict[str, dict[Any, str]]]:
    """Human labels (verbose names along the path) and choice labels; no database access."""
    fields: list[tuple[str, str]] = []
    choices: dict[str, dict[Any, str]] = {}
    for name in names:
        current: type[models.Model] = model
        model_field: Any = None
        parts = name.split("__")
        labels = []
        for part in parts:
            try:
                model_field = current._meta.get_field(part)
            except FieldDoesNotExist:
                model_field = None
                labels.append(part)
                break
            labels.append(str(getattr(model_field, "verbose_name", part)))
            if getattr(model_field, "related_model", None) is not None:
                current = model_field.related_model
        label = labels[-1] if len(labels) == 1 else f"{labels[0]}: {labels[-1]}"
        fields.append((name, label[:1].upper() + label[1:]))
        if model_field is not None and getattr(model_field, "choices", None):
            choices[name] = {value: str(text) for value, text in model_field.flatchoices}
    return fields, choices


# Dates as a person reads them, formatted without Django's per-call format lookup:
# a report may hold tens of thousands of them. Digits, letters and punctuation
# only, so they need no escaping.
DATE_FORMATS = {"nb": ("%d.%m.%Y", "%d.%m.%Y kl. %H:%M"), "en": ("%d %b %Y", "%d %b %Y, %H:%M")}


def render_rows_html(section: ReportSection) -> SafeString:
    """The table body of one section, escaped cell by cell.

    Built in Python rather than in the template language: a person with ten
    thousand interactions means thirty thousand cells, which the template
    engine renders an order of magnitude slower. In the same pass, dates in
    ``section.rows`` become ISO 8601 text for the JSON report, so the rows are
    walked once.
    """
    names = [n for n, _label in section.fields]
    formats_ = DATE_FORMATS.get((translation.get_language() or "nb")[:2], DATE_FORMATS["nb"])
    zone = timezone.get_current_timezone()
    yes_no = {True: escape(_("Yes")), False: escape(_("No"))}
    empty = "\N{EN DASH}"
    # Choice labels escaped once per column, not once per cell.
    choices = [
        {k: escape(v) for k, v in section.choices[n].items()} if n in section.choices else None for n in names
    ]
    lines = []
    for row in section.rows:
        cells = []
        for name, choice in zip(names, choices, strict=True):
            value = row.get(name)
            if value is None or value == "":
                cells.append(empty)
            elif choice is not None and value in choice:
                cells.append(choice[value])
            elif value is True or value is False:
                cells.append(yes_no[value])
            elif isinstance(value, datetime):
                cells.append((value.astimezone(zone) if value.tzinfo else value).strftime(formats_[1]))
                row[name] = value.isoformat()
            elif isinstance(value, date):
                cells.append(value.strftime(formats_[0]))
                row[name] = value.isoformat()
            else:
                cells.append(escape(str(value)))
        lines.append(f"<tr><td>{'</td><td>'.join(cells)}</td></tr>")
    return mark_safe("\n".join(lines))  # noqa: S308 - every cell is escaped above
