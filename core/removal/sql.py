"""Set-based building blocks of the removal engine: id sets, many existence checks in one statement.

The engine's cost is round trips, not rows: a person's erasure touches a few
rows in each of twenty tables. So it asks once which tables hold anything
(``exists_each``), reads the few ids of each target once (``id_filter``), and
every later statement compares with those ids instead of evaluating the
target's own query (a join on the address, a keyed hash) again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections, models
from django.db.models import F, Func, Q, QuerySet


def pks(rows: QuerySet) -> QuerySet:
    """``rows``' primary keys as a subquery."""
    return rows.order_by().values("pk")


class _OneOf(Func):
    """``column = ANY('{1,2,3}'::bigint[])``: one text parameter, written once, whatever the number of ids.

    Not ``IN (SELECT unnest(...))``: inside an EXISTS the planner then prefers a
    merge join that walks a whole index from its start (2.3 s per batch on the
    interactions of a million contacts), where ``= ANY`` probes the index once per id.
    """

    output_field = models.BooleanField()

    def __init__(self, column: str, literal: str) -> None:
        super().__init__(F(column))
        self.literal = literal

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, tuple[Any, ...]]:
        column, params = compiler.compile(self.source_expressions[0])
        return f"{column} = ANY(%s::bigint[])", (*params, self.literal)


def id_filter(model: type[models.Model], column: str, ids: Sequence[Any], *, using: str = "default") -> Q:
    """Rows of ``model`` whose ``column`` (``"pk"``, ``"contact_id"``) is one of ``ids``.

    On PostgreSQL one array parameter (a text literal, written once: a list
    parameter would be adapted element by element for every statement that names
    the set again, which costs more than a statement on a batch of a thousand);
    elsewhere a plain ``IN``.
    """
    field = model._meta.pk if column == "pk" else model._meta.get_field(column)
    target = field.target_field if field.is_relation else field
    integer = isinstance(target, models.IntegerField)  # auto and big auto fields too
    if connections[using].vendor == "postgresql" and ids and integer and all(isinstance(i, int) for i in ids):
        return Q(_OneOf(column, "{" + ",".join(map(str, ids)) + "}"))
    return Q(**{f"{column}__in": list(ids)})


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


def plain_plans(using: str = "default") -> None:
    """For the rest of this transaction, no JIT compilation, no parallel workers, and index
    probes priced as on an SSD (PostgreSQL).

    A removal's statements touch a person's or a batch's rows through indexes;
    on a million contacts their estimated cost still passes ``jit_above_cost``,
    and compiling (or starting workers) took longer than running them: half a
    second of a sweep batch's counts went to JIT alone. At the default
    ``random_page_cost`` (4, a spinning disk's) the planner joined a batch's 1,000
    contacts to all 50,000 organisations by a hash over a sequential scan (36 to
    52 ms in ``EXPLAIN ANALYZE``) rather than probe the primary key 1,000 times
    (5 ms): 1.1 is the usual value for SSDs and a register that fits in memory.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('jit', 'off', true), "
            "set_config('max_parallel_workers_per_gather', '0', true), "
            "set_config('random_page_cost', '1.1', true)"
        )
