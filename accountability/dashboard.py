"""The privacy officer's dashboard: what needs a decision, what is coming, and the trends.

Reads a fixed number of queries whatever the size of the register: the lists
are bounded, the counts use the partial indexes their owners declared, and the
trends come from ``DashboardFigure``, which beat refreshes (``dashboard_refresh``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from html import escape
from importlib import import_module
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from consent.models import LegitimateInterestAssessment, PrivacyNotice
from core.models import WorkerHeartbeat
from requests_dsar.models import DataSubjectRequest
from retention.models import SweepRun

from .models import Breach, DashboardFigure, Recipient

LIST_LIMIT = 20
TREND_MONTHS = 12


@dataclass
class Chart:
    """A bar chart as inline SVG and the same figures as a table (for screen readers)."""

    title: str
    columns: list[str]  # the series (a request type, a purpose)
    rows: list[tuple[str, list[int]]]  # (month or label, one value per series)
    svg: SafeString = field(default=SafeString(""))
    table: SafeString = field(default=SafeString(""))


PALETTE = ("#205493", "#d66d00", "#2e8540", "#981b1e", "#5b616b", "#4c2c92", "#0071bc", "#aa7000")


def bar_chart_svg(chart: Chart, *, width: int = 640, height: int = 220) -> SafeString:
    """Grouped bars, drawn on the server; labels escaped. No script, no style attribute (CSP)."""
    top = max((v for _label, values in chart.rows for v in values), default=0) or 1
    left, bottom, pad = 40, 40, 8
    plot_w, plot_h = width - left - pad, height - bottom - pad
    group = plot_w / max(len(chart.rows), 1)
    bar = max(1.0, (group - 4) / max(len(chart.columns), 1))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(chart.title)}"><title>{escape(chart.title)}</title>',
        f'<line x1="{left}" y1="{pad + plot_h}" x2="{width - pad}" y2="{pad + plot_h}" stroke="#999"/>',
        f'<text x="{left - 4}" y="{pad + 10}" text-anchor="end" font-size="10">{top}</text>',
    ]
    for i, (label, values) in enumerate(chart.rows):
        x0 = left + i * group + 2
        for j, value in enumerate(values):
            h = plot_h * value / top
            parts.append(
                f'<rect x="{x0 + j * bar:.1f}" y="{pad + plot_h - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{PALETTE[j % len(PALETTE)]}"><title>{escape(label)}: {escape(chart.columns[j])} '
                f"{value}</title></rect>"
            )
        parts.append(
            f'<text x="{x0 + group / 2:.1f}" y="{height - bottom + 14}" text-anchor="middle" '
            f'font-size="10">{escape(label)}</text>'
        )
    for j, column in enumerate(chart.columns):
        y = height - 12
        x = left + j * 110
        parts.append(f'<rect x="{x}" y="{y - 8}" width="8" height="8" fill="{PALETTE[j % len(PALETTE)]}"/>')
        parts.append(f'<text x="{x + 11}" y="{y}" font-size="10">{escape(column[:18])}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def table_html(chart: Chart) -> SafeString:
    """The chart's figures as a table body, built in Python: a template loop over every cell of
    every chart costs more than the rest of the page."""
    head = "".join(f'<th scope="col">{escape(c)}</th>' for c in chart.columns)
    body = "".join(
        f'<tr><th scope="row">{escape(label)}</th>{"".join(f"<td>{v}</td>" for v in values)}</tr>'
        for label, values in chart.rows
    )
    return mark_safe(f'<thead><tr><th scope="col"></th>{head}</tr></thead><tbody>{body}</tbody>')  # noqa: S308


def _finish(chart: Chart) -> Chart:
    chart.svg = bar_chart_svg(chart)
    chart.table = table_html(chart)
    return chart


def clock_text(breach: Breach, now: datetime | None = None) -> str:
    """The state of the 72-hour clock in words (Art. 33(1))."""
    if breach.notified_at is not None:
        return _("Notified %(when)s") % {
            "when": date_format(timezone.localtime(breach.notified_at), "SHORT_DATETIME_FORMAT")
        }
    if breach.decision == Breach.Decision.NOT_NOTIFY:
        return _("Decided not to notify")
    left = breach.hours_left(now)
    if left < 0:
        return _("Overdue by %(hours)d hours") % {"hours": int(-left)}
    return _("%(hours)d hours left (deadline %(deadline)s)") % {
        "hours": int(left),
        "deadline": date_format(timezone.localtime(breach.deadline), "SHORT_DATETIME_FORMAT"),
    }


def _months(today: date, count: int = TREND_MONTHS) -> list[date]:
    first = today.replace(day=1)
    months = []
    for _i in range(count):
        months.append(first)
        first = (first - timedelta(days=1)).replace(day=1)
    return list(reversed(months))


def _trend(figures: list[Any], key: str, title: str, months: list[date], labels: dict) -> Chart:
    values: dict[tuple[date, str], int] = {}
    columns: set[str] = set()
    for f in figures:
        if f.key == key and f.month is not None:
            values[(f.month, f.dimension)] = f.value
            columns.add(f.dimension)
    ordered = sorted(columns)
    chart = Chart(
        title=title,
        columns=[str(labels.get(c, c)) for c in ordered],
        rows=[(m.strftime("%Y-%m"), [values.get((m, c), 0) for c in ordered]) for m in months],
    )
    return _finish(chart)


def _audit_chain_last_check() -> tuple[bool, Any]:
    """(available, when): ``core.selectors.audit_chain_last_verified`` when the audit chain exists.

    Not available (False) without it; available but None when the chain was never found intact.
    """
    reader = getattr(import_module("core.selectors"), "audit_chain_last_verified", None)
    if reader is None:
        return False, None
    try:
        return True, reader()
    except Exception:  # the hardening side's read must never break the front page
        return False, None


def dashboard_context(*, now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    today = timezone.localdate(now)
    week_end = today + timedelta(days=7 - today.weekday())
    month_ahead = today + timedelta(days=30)

    open_requests = DataSubjectRequest.objects.filter(status__in=DataSubjectRequest.OPEN)
    request_counts = open_requests.aggregate(
        overdue=Count("id", filter=Q(due_date__lt=today)),
        due_this_week=Count("id", filter=Q(due_date__gte=today, due_date__lte=week_end)),
    )
    requests_due = list(
        open_requests.filter(due_date__lte=week_end)
        .order_by("due_date")
        .only("id", "reference", "type", "status", "due_date")[:LIST_LIMIT]
    )
    breaches = list(
        Breach.objects.filter(notified_at=None, closed_at=None)
        .exclude(decision=Breach.Decision.NOT_NOTIFY)
        .order_by("discovered_at")[:LIST_LIMIT]
    )
    # Only each purpose's latest assessment: an older one past its date was superseded, not overdue.
    newer = LegitimateInterestAssessment.objects.filter(
        purpose=OuterRef("purpose"), reviewed_on__gt=OuterRef("reviewed_on")
    )
    lia_due = list(
        LegitimateInterestAssessment.objects.filter(next_review__lte=month_ahead).exclude(Exists(newer))
        .select_related("purpose").order_by("next_review")[:LIST_LIMIT]
    )  # fmt: skip
    dpa_due = list(
        Recipient.objects.filter(is_active=True, dpa_next_review__lte=month_ahead).order_by(
            "dpa_next_review"
        )[:LIST_LIMIT]
    )
    runs = list(
        SweepRun.objects.filter(
            status__in=[SweepRun.Status.STOPPED_BY_VALVE, SweepRun.Status.FAILED],
            started_at__gte=now - timedelta(days=30),
        ).order_by("-started_at")[:LIST_LIMIT]
    )
    heartbeat = WorkerHeartbeat.objects.filter(name="worker").first()
    notices = list(PrivacyNotice.objects.filter(effective_from__gt=now).order_by("effective_from")[:5])
    # Plain tuples: a few hundred figures as model instances cost more than the query.
    audit_available, audit_check = _audit_chain_last_check()
    figures = list(
        DashboardFigure.objects.values_list("key", "dimension", "month", "value", "refreshed_at", named=True)
    )

    months = _months(today)
    request_types = dict(DataSubjectRequest.Type.choices)
    by_key: dict[str, dict[str, int]] = defaultdict(dict)
    for f in figures:
        if f.month is None:
            by_key[f.key][f.dimension] = f.value
    refreshed = max((f.refreshed_at for f in figures), default=None)
    in_time = _trend(figures, "requests_answered", _("Requests answered, in time and late"), months,
                     {"in_time": _("In time"), "late": _("Late")})  # fmt: skip
    return {
        "now": now,
        "request_counts": request_counts,
        "requests_due": requests_due,
        "breaches": [(b, clock_text(b, now)) for b in breaches],
        "lia_due": lia_due,
        "dpa_due": dpa_due,
        "runs": runs,
        "heartbeat": heartbeat,
        "heartbeat_stale": heartbeat is None or heartbeat.seen_at < now - timedelta(minutes=5),
        "audit_available": audit_available,
        "audit_check": audit_check,
        "notices": notices,
        "deletions_due": sorted(by_key["deletions_due_30d"].items()),
        "refreshed_at": refreshed,
        "charts": [
            _trend(figures, "requests", _("Requests per month by type"), months, request_types),
            in_time,
            _trend(figures, "consents_granted", _("Consents given per month by purpose"), months, {}),
            _trend(figures, "consents_withdrawn", _("Consents withdrawn per month by purpose"), months, {}),
        ],
        "contacts_by_source": _source_chart(by_key["contacts_by_source"]),
    }


def _source_chart(counts: dict[str, int]) -> Chart:
    from subjects.models import Contact

    labels = dict(Contact.SourceType.choices)
    ordered = sorted(counts)
    chart = Chart(
        title=_("Contacts by source"),
        columns=[_("Contacts")],
        rows=[(str(labels.get(s, s)), [counts[s]]) for s in ordered],
    )
    return _finish(chart)
