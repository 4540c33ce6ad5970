"""The statistics that outlive what the sweep removes: counts, never people (Recital 26)."""

from __future__ import annotations

from typing import Any

from django.db import connection, models, transaction
from django.db.models import Case, CharField, Count, F, Q, Sum, Value, When
from django.db.models.deletion import CASCADE, get_candidate_relations_to_delete
from django.db.models.functions import Coalesce, TruncMonth, TruncYear

from core.registry import PersonalData, registry
from core.removal.sql import id_filter
from subjects.models import Organisation

from ..models import RetentionPolicy, RetentionStatistic
from ..selectors import (
    anchor_expression,
    path_to_model,
)

# Statistics ---------------------------------------------------------------

RELATIONSHIP = (
    ("is_customer", "customer"),
    ("is_partner", "partner"),
    ("is_supplier", "supplier"),
    ("is_prospect", "prospect"),
)


def _statistics_queryset(
    *, category: str, label: str, base: type[models.Model], rows: Q, month: Any, via: str = "", kind: bool
) -> models.QuerySet:
    """Counts of the batch grouped by month, organisation, relationship and kind.

    ``via`` is the reverse relation from ``base`` (the swept model) to the
    model counted (a contact's ``interactions``): the query starts from the
    batch's own rows, found by primary key, so it never scans the whole table.
    """
    prefix = f"{via}__" if via else ""
    organisation = path_to_model(base, Organisation)
    if organisation is None:
        org_ref: Any = Value(0)
        relationship: Any = Value("")
    else:
        org_prefix = f"{organisation}__" if organisation else ""
        org_ref = Coalesce(F(f"{org_prefix}pk"), Value(0))
        relationship = Case(
            *[When(**{f"{org_prefix}{flag}": True}, then=Value(label)) for flag, label in RELATIONSHIP],
            default=Value(""),
            output_field=CharField(),
        )
    if via:
        rows &= Q(**{f"{via}__isnull": False})
    return (
        base._default_manager.filter(rows)
        .annotate(
            s_category=Value(category, output_field=CharField()),
            s_model=Value(label, output_field=CharField()),
            s_month=TruncMonth(month, output_field=models.DateField()),
            s_org=org_ref,
            s_relationship=relationship,
            s_kind=F(f"{prefix}kind") if kind else Value("", output_field=CharField()),
        )
        .values("s_category", "s_model", "s_month", "s_org", "s_relationship", "s_kind")
        .annotate(s_count=Count(f"{prefix}pk"))
        .order_by()
    )


def _has_kind(model: type[models.Model]) -> bool:
    return any(f.name == "kind" and f.choices for f in model._meta.concrete_fields)


def _statistics_add(queryset: models.QuerySet) -> None:
    """Add the grouped counts of ``queryset`` to RetentionStatistic in one statement.

    INSERT ... SELECT ... ON CONFLICT DO UPDATE adds to existing rows; both
    PostgreSQL and SQLite (3.24+) know it, and the ORM writes the SELECT.
    """
    select, params = queryset.query.sql_with_params()
    table = connection.ops.quote_name(RetentionStatistic._meta.db_table)
    columns = "category, model, month, organisation_ref, relationship, kind, period"
    month = RetentionStatistic.Period.MONTH.value
    sql = (
        f"INSERT INTO {table} ({columns}, count) "  # noqa: S608  (names from model metadata)
        f"SELECT s_category, s_model, s_month, s_org, s_relationship, s_kind, '{month}', s_count "
        f"FROM ({select}) AS s WHERE s_month IS NOT NULL "
        f"ON CONFLICT ({columns}) DO UPDATE SET count = {table}.count + excluded.count"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# Recital 26: coarser and coarser cells until each counts enough people.
_ROLL_UP_STEPS: tuple[tuple[Q, dict[str, Any]], ...] = (
    (Q(period="month") & ~Q(organisation_ref=0), {"organisation_ref": Value(0)}),
    (
        Q(period="month", organisation_ref=0),
        {"month": TruncYear("month", output_field=models.DateField()), "period": Value("year")},
    ),
    (Q(period="year") & ~Q(relationship="", kind=""), {"relationship": Value(""), "kind": Value("")}),
)


def statistics_roll_up() -> int:
    """Merge every statistics cell of fewer than ``MIN_PEOPLE`` into a coarser one; returns cells merged.

    Three set-based steps, each one INSERT ... SELECT ... ON CONFLICT that adds
    the small cells' counts to the coarser cell, then a DELETE of the small
    cells: first the organisation goes, then the month becomes the year, then
    the relationship and kind go. A coarsest cell still under the threshold
    stays: a yearly count per record type names nobody.
    """
    table = connection.ops.quote_name(RetentionStatistic._meta.db_table)
    columns = ["category", "model", "month", "organisation_ref", "relationship", "kind", "period"]
    merged = 0
    with transaction.atomic():
        for where, replacements in _ROLL_UP_STEPS:
            small = RetentionStatistic.objects.filter(where, count__lt=RetentionStatistic.MIN_PEOPLE)
            # The coarser cells the INSERT adds to never match ``where`` (no organisation, a
            # year, no relationship or kind), so ``small`` names the same cells before and
            # after it: read as a subquery twice, never as a list of ids sent back.
            grouped = (
                small.annotate(**{f"r_{c}": replacements.get(c, F(c)) for c in columns})
                .values(*(f"r_{c}" for c in columns))
                .annotate(r_count=Sum("count"))
                .order_by()
            )
            select, params = grouped.query.sql_with_params()
            names = ", ".join(columns)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {table} ({names}, count) "  # noqa: S608  (names from model metadata)
                    f"SELECT {', '.join(f'r_{c}' for c in columns)}, r_count FROM ({select}) AS r "
                    # WHERE: SQLite's parser needs it between an INSERT's SELECT and ON CONFLICT.
                    f"WHERE true "
                    f"ON CONFLICT ({names}) DO UPDATE SET count = {table}.count + excluded.count",
                    params,
                )
            # Counts, never personal data: the small cells are merged above, then go.
            # (No relations point at a cell, so Django deletes in one statement.)
            deleted, _per_model = RetentionStatistic.objects.filter(pk__in=small.values("pk")).delete()
            merged += deleted
    return merged


def _cascading_children(model: type[models.Model]) -> list[tuple[PersonalData, str, str]]:
    """Registered models whose rows go with a row of ``model`` (a contact's interactions).

    Each as (declaration, its foreign key's name, the reverse query name from ``model``).
    """
    children = []
    for relation in get_candidate_relations_to_delete(model._meta):
        if relation.one_to_many and relation.on_delete is CASCADE:
            declaration = registry.get(relation.related_model)
            if declaration is not None and declaration.holds_personal_data:
                children.append((declaration, relation.field.name, relation.field.related_query_name()))
    return children


def _record_statistics(*, policy: RetentionPolicy, declaration: PersonalData, pks: list[Any]) -> None:
    # The batch's keys as one array parameter on PostgreSQL, not a thousand placeholders.
    rows = id_filter(declaration.model, "pk", pks)
    _statistics_add(
        _statistics_queryset(
            category=policy.category,
            label=declaration.label,
            base=declaration.model,
            rows=rows,
            month=anchor_expression(policy, declaration),
            kind=_has_kind(declaration.model),
        )
    )
    for child, _fk, via in _cascading_children(declaration.model):
        if child.retention_anchor is None or via.endswith("+"):
            continue  # no event to count by, or no way to reach it from the row (related_name="+")
        _statistics_add(
            _statistics_queryset(
                category=child.category,
                label=child.label,
                base=declaration.model,
                rows=rows,
                month=F(f"{via}__{child.retention_anchor}"),
                via=via,
                kind=_has_kind(child.model),
            )
        )
