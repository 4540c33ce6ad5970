"""Set-based building blocks of the removal engine: id sets, many existence checks in one statement.

The engine's cost is round trips, not rows: a person's erasure touches a few
rows in each of twenty tables. So it asks once which tables hold anything
(``exists_each``), reads the few ids of each target once (``id_set``), and
every later statement compares with those ids instead of evaluating the
target's own query (a join on the address, a keyed hash) again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections, models
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL


def pks(rows: QuerySet) -> QuerySet:
    """``rows``' primary keys as a subquery."""
    return rows.order_by().values("pk")


def id_set(model: type[models.Model], ids: Sequence[Any], *, using: str = "default") -> Any:
    """A value for ``pk__in``: on PostgreSQL one array parameter, not one placeholder per id.

    The array goes as one text literal (``'{1,2,3}'::bigint[]``), written once: a
    list parameter would be adapted element by element for every statement that
    names the set again, which costs more than the statement itself for a batch
    of a thousand.
    """
    integer = isinstance(model._meta.pk, models.IntegerField)  # auto and big auto fields too
    if connections[using].vendor == "postgresql" and ids and integer and all(isinstance(i, int) for i in ids):
        return RawSQL("SELECT unnest(%s::bigint[])", ("{" + ",".join(map(str, ids)) + "}",))
    return list(ids)


def exists_each(querysets: Iterable[QuerySet]) -> list[bool]:
    """Whether each queryset has a row: ``SELECT EXISTS(...), EXISTS(...), ...``, one round trip."""
    querysets = list(querysets)
    if not querysets:
        return []
    if len(querysets) == 1:
        return [querysets[0].exists()]
    using = querysets[0].db
    parts: list[str] = []
    params: list[Any] = []
    for queryset in querysets:
        try:
            sql, sql_params = pks(queryset).query.sql_with_params()
        except EmptyResultSet:  # ``pk__in=[]``: nothing, known without asking
            parts.append("1 = 0")
            continue
        parts.append(f"EXISTS({sql})")
        params.extend(sql_params)
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        return [bool(value) for value in cursor.fetchone()]
