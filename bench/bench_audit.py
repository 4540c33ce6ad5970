"""The audit trail's hash chain: what it costs to write, and how fast it verifies.

Issue 11's budget: writing an event with the chain costs at most 1.5x writing it
without, for 100,000 events from two concurrent writers (one transaction per
event, as a service writes them); ``audit_verify`` walks 1,000,000 events in
under a minute with flat memory.

    DATABASE_URL=postgres://... python bench/bench_audit.py [events] [verify_events]

The baseline inserts the same rows with the same ORM call but no lock, no read
of the head and no hashing (positions from disjoint ranges per writer).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from datetime import UTC, datetime

from common import _admin, _with_db, base_url, peak_memory_mb, report, setup_django

WRITERS = int(os.environ.get("BENCH_AUDIT_WRITERS", "2"))


def _fresh_database() -> str:
    import subprocess

    from common import ROOT

    name = "pv_bench_audit"
    with _admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = _with_db(base_url(), name)
    env = {**__import__("os").environ, "DATABASE_URL": url, "DEBUG": "false"}
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "-v0"], env=env, check=True, cwd=ROOT)
    return url


def _truncate() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE core_auditevent, core_auditchainverification, core_auditchainhead")


_RAW_INSERT = (
    "INSERT INTO core_auditevent (at, actor_kind, actor_id, actor_role, action, target_type, target_id, "
    "changed_fields, ip_address, ip_hash, seq, previous_hash, chain_hash) "
    "VALUES (%s, %s, %s, '', %s, %s, %s, '[]', %s, '', %s, '', '') RETURNING id"
)


def _writer(url: str, mode: str, start: int, count: int, ready, go) -> None:  # type: ignore[no-untyped-def]
    setup_django(url)
    from django.db import connection, transaction
    from django.utils import timezone

    from core.audit import Actor, audit_record
    from core.models import AuditEvent

    actor = Actor.subject("198.51.100.7")
    ready.wait()
    go.wait()
    for i in range(count):
        if mode == "chained":
            with transaction.atomic():
                audit_record(actor=actor, action="contact.view", target_type="subjects.contact", target_id=i)
        elif mode == "orm":
            with transaction.atomic():
                AuditEvent(
                    seq=start + i, actor_kind=actor.kind, actor_id=actor.id, action="contact.view",
                    target_type="subjects.contact", target_id=str(i), ip_address=actor.ip_address,
                ).save()  # fmt: skip
        else:  # "sql": one hand-written INSERT, the floor for one statement per event
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    _RAW_INSERT,
                    [timezone.now(), actor.kind, actor.id, "contact.view", "subjects.contact", str(i),
                     actor.ip_address, start + i],
                )  # fmt: skip


def _write(url: str, *, mode: str, events: int) -> float:
    from django.db import connections

    _truncate()
    # The writers are forked: they must not share this process's connection.
    connections.close_all()
    per_writer = events // WRITERS
    ready = multiprocessing.Barrier(WRITERS + 1)
    go = multiprocessing.Barrier(WRITERS + 1)
    procs = [
        multiprocessing.Process(target=_writer, args=(url, mode, 1 + n * per_writer, per_writer, ready, go))
        for n in range(WRITERS)
    ]
    for p in procs:
        p.start()
    ready.wait()
    started = time.perf_counter()
    go.wait()
    for p in procs:
        p.join()
        assert p.exitcode == 0
    return time.perf_counter() - started


def _fill_chain(events: int) -> None:
    """``events`` chained rows through COPY (the verification's input, written fast)."""
    from django.db import connection

    from core.audit_chain import GENESIS_HASH, address_hash, event_hash

    _truncate()
    previous = GENESIS_HASH
    at = datetime(2026, 1, 1, tzinfo=UTC)
    ip_hash = address_hash("198.51.100.7")
    columns = (
        "seq, at, actor_kind, actor_id, actor_role, action, target_type, target_id, changed_fields, "
        "ip_address, ip_hash, previous_hash, chain_hash"
    )
    with connection.cursor() as cursor, cursor.copy(f"COPY core_auditevent ({columns}) FROM STDIN") as copy:
        for seq in range(1, events + 1):
            digest = event_hash(
                seq=seq, at=at, actor_kind="staff", actor_id="7", actor_role="", action="contact.view",
                target_type="subjects.contact", target_id=str(seq), changed_fields=[], ip_hash=ip_hash,
                previous_hash=previous,
            )  # fmt: skip
            copy.write_row(
                (seq, at, "staff", "7", "", "contact.view", "subjects.contact", str(seq), "[]",
                 "198.51.100.7", ip_hash, previous, digest)
            )  # fmt: skip
            previous = digest


def main() -> None:
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    verify_events = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    # Interleaved rounds, best of each: the machine is shared, and load moves between runs.
    rounds = int(os.environ.get("BENCH_AUDIT_ROUNDS", "1"))
    url = _fresh_database()
    setup_django(url)
    from core.audit_chain import chain_verify

    best: dict[str, float] = {}
    for _round in range(rounds):
        for mode in ("orm", "sql", "chained"):
            seconds = _write(url, mode=mode, events=events)
            best[mode] = min(seconds, best.get(mode, seconds))
            print(f"  round {_round + 1}: {mode} {seconds:.1f} s (load {os.getloadavg()[0]:.2f})", flush=True)
            if mode == "chained":
                assert chain_verify().ok
    plain, sql, chained = best["orm"], best["sql"], best["chained"]
    _fill_chain(verify_events)
    memory_before = peak_memory_mb()
    started = time.perf_counter()
    result = chain_verify()
    verify_seconds = time.perf_counter() - started
    assert result.ok and result.events_checked == verify_events
    report(
        f"audit chain ({WRITERS} concurrent writers, one transaction per event, best of {rounds})",
        [
            (f"{events:,} events without the chain (ORM save, the issue's baseline)",
             f"{plain:.1f} s ({events / plain:,.0f}/s)"),
            (f"{events:,} events without the chain (one hand-written INSERT)",
             f"{sql:.1f} s ({events / sql:,.0f}/s)"),
            (f"{events:,} events with the chain", f"{chained:.1f} s ({events / chained:,.0f}/s)"),
            ("cost of the chain",
             f"{chained / plain:.2f}x the ORM save, {chained / sql:.2f}x the bare INSERT (budget 1.5x)"),
            (f"audit_verify over {verify_events:,} events", f"{verify_seconds:.1f} s (budget 60 s)"),
            ("peak memory before / after verifying", f"{memory_before:.0f} MB / {peak_memory_mb():.0f} MB"),
        ],
    )  # fmt: skip


if __name__ == "__main__":
    main()
