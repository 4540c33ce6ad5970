"""The sections of the access report (Art. 15): one per registered model holding rows of the person."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from html import escape
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

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
    """One ``.values()`` query per findable registered model; no query per row.

    Shown in the active language (the caller sets the requester's, with
    ``translation.override``), with words instead of codes: purposes by name,
    rows in date order, and retention as the policies in force state it.
    """
    sections = []
    in_force = _policies_in_force()
    purpose_names: dict[str, str] | None = None
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
        coded = [n for n in names if n == "purpose__code" or n.endswith("__purpose__code")]
        if coded:
            purpose_names = purpose_names if purpose_names is not None else _purpose_names()
            fields = _name_purposes(fields, rows, coded, purpose_names)
        _in_date_order(rows, names)
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
                retention=retention_text(declaration, in_force),
                kept_because=str(declaration.kept_because) if declaration.erasure is Erasure.KEEP else "",
                fields=fields,
                rows=rows,
                choices=choices,
            )
        )
    portal = _portal_visits_section(addresses, in_force)
    if portal is not None:
        sections.append(portal)
    return sections


# --- Words instead of codes (issue 9, item 12) -------------------------------------------------


def _purpose_names() -> dict[str, str]:
    """Every purpose's name in the active language, in one query."""
    from consent.models import Purpose

    return {p.code: p.name for p in Purpose.objects.only("code", "name_nb", "name_en")}


def _name_purposes(
    fields: list[tuple[str, str]], rows: list[dict[str, Any]], coded: list[str], names: dict[str, str]
) -> list[tuple[str, str]]:
    for row in rows:
        for column in coded:
            code = row.get(column)
            if code:
                row[column] = names.get(code) or purpose_label(code)
    return [(n, _("Purpose") if n in coded else label) for n, label in fields]


def _in_date_order(rows: list[dict[str, Any]], names: Sequence[str]) -> None:
    """Oldest first by the first date column (an interaction by when it happened); undated rows first."""
    for name in names:
        if any(isinstance(row.get(name), date) for row in rows):
            rows.sort(key=lambda row: _as_moment(row.get(name)))
            return


_UNDATED = datetime(1, 1, 2, tzinfo=UTC)


def _as_moment(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else timezone.make_aware(value)
    if isinstance(value, date):
        return timezone.make_aware(datetime(value.year, value.month, value.day))
    return _UNDATED


# --- Retention from the policies in force (Art. 15(1)(d)) -------------------------------------


def _policies_in_force() -> dict[str, list[Any]]:
    """The enabled retention policies by data category, in one query."""
    try:
        from retention.models import RetentionPolicy
    except ImportError:  # pragma: no cover - the retention app is part of the product
        return {}
    by_category: dict[str, list[Any]] = {}
    for policy in RetentionPolicy.objects.filter(enabled=True).order_by("period_days"):
        by_category.setdefault(policy.category, []).append(policy)
    return by_category


def period_text(days: int) -> str:
    """A period as a person says it: "3 years", "6 months", "2 weeks", "45 days"."""
    if days % 365 == 0:
        n = days // 365
        return ngettext("%(n)d year", "%(n)d years", n) % {"n": n}
    if days % 30 == 0:
        n = days // 30
        return ngettext("%(n)d month", "%(n)d months", n) % {"n": n}
    if days % 7 == 0:
        n = days // 7
        return ngettext("%(n)d week", "%(n)d weeks", n) % {"n": n}
    return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}


def _anchor_text(model: type[models.Model], path: str | None) -> str:
    """The event a period runs from, by the verbose name of its field ("last interaction")."""
    if not path:
        return ""
    current: type[models.Model] = model
    model_field: Any = None
    for part in path.split("__"):
        try:
            model_field = current._meta.get_field(part)
        except FieldDoesNotExist:
            return ""
        if getattr(model_field, "related_model", None) is not None:
            current = model_field.related_model
    return str(getattr(model_field, "verbose_name", "")) if model_field is not None else ""


def retention_text(declaration: Any, in_force: dict[str, list[Any]]) -> str:
    """How long we keep it, from the retention policies in force for its category.

    Without a policy, the declaration's own note (a record kept as long as the
    law requires, a suppression entry kept for good).
    """
    policies = in_force.get(declaration.category, [])
    if not policies:
        return str(declaration.retention_note)
    texts = []
    for policy in policies:
        anchor = _anchor_text(declaration.model, policy.anchor) or _anchor_text(
            declaration.model, declaration.retention_anchor
        )
        values = {"period": period_text(policy.period_days), "anchor": anchor}
        if policy.action == "anonymise":
            text = (
                _("Anonymised %(period)s after %(anchor)s, then kept only in statistics that name nobody.")
                if anchor
                else _("Anonymised after %(period)s, then kept only in statistics that name nobody.")
            )
        else:
            text = _("Deleted %(period)s after %(anchor)s.") if anchor else _("Deleted after %(period)s.")
        texts.append(text % values)
    return " ".join(texts)


# --- The addresses you used in our portal (issue 8, item 9) -----------------------------------

PORTAL_ACTIONS = {
    "dsar.submit": gettext_lazy("You sent a request"),
    "dsar.repeat": gettext_lazy("You sent the request again"),
    "dsar.verify": gettext_lazy("You confirmed the request by email"),
    "dsar.withdraw": gettext_lazy("You withdrew the request"),
    "dsar.download": gettext_lazy("You downloaded our answer"),
}


def _portal_visits_section(addresses: Sequence[str], in_force: dict[str, list[Any]]) -> ReportSection | None:
    """The audit trail's record of what the person did in the portal, with the IP address used.

    The audit trail is not found by address (it names records by number); the
    person's own acts are found through their requests. Two queries.
    """
    from core.audit_retention import audit_ip_keep_days
    from core.models import AuditEvent
    from requests_dsar.models import DataSubjectRequest

    if not addresses:
        return None
    request_ids = [
        str(pk) for pk in DataSubjectRequest.objects.filter(email__in=addresses).values_list("pk", flat=True)
    ]
    if not request_ids:
        return None
    rows = list(
        AuditEvent.objects.filter(
            actor_kind=AuditEvent.ActorKind.SUBJECT,
            target_type=DataSubjectRequest._meta.label_lower,
            target_id__in=request_ids,
        )
        .order_by("at", "pk")
        .values("at", "action", "ip_address")
    )
    if not rows:
        return None
    for row in rows:
        row["action"] = str(PORTAL_ACTIONS.get(row["action"], row["action"]))
    declaration = registry.get(AuditEvent)
    return ReportSection(
        label=AuditEvent._meta.label_lower,
        title=_("What you did in our privacy portal"),
        description=_(
            "The audit trail records what you did in our privacy portal, with the IP address you used; "
            "the address is removed after %(days)d days."
        )
        % {"days": audit_ip_keep_days()},
        category=declaration.category if declaration else "audit_trail",
        category_label=category_label(declaration.category if declaration else "audit_trail"),
        purposes=[(c, purpose_label(c)) for c in (declaration.purposes if declaration else ())],
        source=str(declaration.source) if declaration else "",
        recipients=[(c, recipient_label(c)) for c in (declaration.recipients if declaration else ())],
        retention=retention_text(declaration, in_force) if declaration else "",
        kept_because=str(declaration.kept_because) if declaration else "",
        fields=[("at", _("When")), ("action", _("What you did")), ("ip_address", _("From IP address"))],
        rows=rows,
        choices={},
    )


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
