"""Shared set-up for the benchmarks: a seeded PostgreSQL database per benchmark.

A template database is seeded once per size with ``seed_demo`` and kept
(``pv_bench_tpl_<contacts>``); each benchmark then gets a fresh copy of it
(``CREATE DATABASE ... TEMPLATE``), so a benchmark that deletes rows never
changes what the next one sees, and reseeding a million contacts is paid once.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def base_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("Benchmarks run on PostgreSQL: set DATABASE_URL=postgres://user@host:port/name")
    return url


def _with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def _admin() -> psycopg.Connection:
    return psycopg.connect(_with_db(base_url(), "postgres"), autocommit=True)


def _exists(conn: psycopg.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def prepare_database(*, name: str, contacts: int, interactions_per_contact: int = 5) -> str:
    """A fresh copy of the seeded template for ``contacts``; returns its URL."""
    template = f"pv_bench_tpl_{contacts}_{interactions_per_contact}"
    work = f"pv_bench_{name}"
    with _admin() as conn:
        ready = (
            _exists(conn, template)
            and conn.execute(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [template]
            ).fetchone()[0]
            == "seeded"
        )
        if not ready:
            conn.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{template}"')
            env = {**os.environ, "DATABASE_URL": _with_db(base_url(), template), "DEBUG": "false"}
            env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
            manage = [sys.executable, str(ROOT / "manage.py")]
            print(f"seeding {template} (once; later runs reuse it) ...", flush=True)
            subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, cwd=ROOT)
            subprocess.run(
                [*manage, "seed_demo", "--contacts", str(contacts),
                 "--interactions-per-contact", str(interactions_per_contact)],
                env=env, check=True, cwd=ROOT,
            )  # fmt: skip
            with psycopg.connect(_with_db(base_url(), template), autocommit=True) as seeded:
                seeded.execute("VACUUM ANALYZE")
            conn.execute(f"COMMENT ON DATABASE \"{template}\" IS 'seeded'")
        conn.execute(f'DROP DATABASE IF EXISTS "{work}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{work}" TEMPLATE "{template}"')
        conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", [template])
    url = _with_db(base_url(), work)
    # The template may predate the newest migrations: bring the copy up to date.
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "false"}
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "-v0"], env=env, check=True, cwd=ROOT)
    return url


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ["DEBUG"] = "false"
    import django

    django.setup()


@contextmanager
def timed() -> Iterator[dict[str, float]]:
    result: dict[str, float] = {}
    started = time.perf_counter()
    yield result
    result["seconds"] = time.perf_counter() - started


def peak_memory_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(title: str, rows: list[tuple[str, str]]) -> None:
    print(f"\n== {title}")
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"  {label.ljust(width)}  {value}")
