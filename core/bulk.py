"""Streaming bulk inserts for demo data and benchmarks.

On PostgreSQL rows go through COPY (psycopg 3), elsewhere through batched
``executemany``; either way rows are consumed from an iterator, so memory does
not grow with their number.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import islice
from typing import Any

from django.db import connection, models


def bulk_insert(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    batch: int = 5000,
) -> int:
    table = model._meta.db_table
    fields = [model._meta.get_field(c) for c in columns]
    column_names = [f.column for f in fields]
    qn = connection.ops.quote_name
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            sql = f"COPY {qn(table)} ({', '.join(qn(c) for c in column_names)}) FROM STDIN"
            with cursor.cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
        else:
            placeholders = ", ".join(["%s"] * len(column_names))
            # Identifiers come from the model's own metadata, never from input.
            names = ", ".join(qn(c) for c in column_names)
            sql = f"INSERT INTO {qn(table)} ({names}) VALUES ({placeholders})"  # noqa: S608
            # Other backends need Django's own conversions (dates on SQLite).
            iterator = (
                [f.get_db_prep_save(v, connection) for f, v in zip(fields, row, strict=True)] for row in rows
            )
            while chunk := list(islice(iterator, batch)):
                cursor.executemany(sql, chunk)
                count += len(chunk)
    return count


def next_id(model: type[models.Model]) -> int:
    latest = model._default_manager.order_by("-pk").values_list("pk", flat=True).first()
    return (latest or 0) + 1


def reset_sequence(model: type[models.Model]) -> None:
    """After inserting explicit ids, move PostgreSQL's sequence past them."""
    if connection.vendor != "postgresql":
        return
    table = model._meta.db_table
    pk = model._meta.pk.column
    qn = connection.ops.quote_name
    sql = f"SELECT setval(pg_get_serial_sequence(%s, %s), COALESCE(MAX({qn(pk)}), 1)) FROM {qn(table)}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [table, pk])
