"""The retention sweep on PostgreSQL beside a hand-written SQL DELETE of the same rows.

For each size (BENCH_RETENTION_SIZES, default 200,000 and 1,000,000 contacts with
about five interactions each): a fresh copy of the seeded template, migrated to
the current schema; every contact made recent, then one in five (non-customers
only, so that nothing is protected) set back four years, so they are due. The
sweep runs the way the schedule runs it, in its own process
(``retention_sweep --policy contacts``), whose peak memory it reports. The
baseline is a second fresh copy with the same rows marked, removed by one
hand-written DELETE per table that references a contact, then the contacts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import psycopg
from common import ROOT, prepare_database, report

SIZES = [int(s) for s in os.environ.get("BENCH_RETENTION_SIZES", "200000,1000000").split(",")]
BATCH = os.environ.get("RETENTION_BATCH_SIZE", "1000")

MARK_SQL = """
UPDATE subjects_contact SET last_interaction_at = now() - (id %% 700) * interval '1 day';
UPDATE subjects_contact c SET last_interaction_at = now() - interval '4 years'
  WHERE c.id IN (
    SELECT c2.id FROM subjects_contact c2 JOIN subjects_organisation o ON o.id = c2.organisation_id
    WHERE NOT o.is_customer AND c2.id %% 2 = 0 ORDER BY c2.id LIMIT %(due)s
  );
"""

SWEEP = """
import json, os, resource, sys, time
sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
import django
django.setup()
from retention.services import retention_sweep
started = time.perf_counter()
outcome = retention_sweep(trigger="command", codes=["contacts"])
seconds = time.perf_counter() - started
run = outcome.runs[0]
print(json.dumps({"seconds": seconds, "status": run.status, "deleted": run.deleted, "due": run.due,
                  "errors": run.error_count,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def migrate(url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "false"}
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "-v0"], env=env, check=True, cwd=ROOT)


def mark_due(url: str, due: int) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in MARK_SQL.split(";"):
            if statement.strip():
                if "%(due)s" in statement:
                    conn.execute(statement, {"due": due})
                else:
                    conn.execute(statement.replace("%%", "%"))
        # Nothing else may be due for the contacts policy: no holds, no old fallback dates.
        conn.execute("DELETE FROM retention_legalhold")
        conn.execute("UPDATE retention_retentionpolicy SET enabled = false WHERE code <> 'contacts'")
        conn.execute("VACUUM ANALYZE subjects_contact")
        return conn.execute(
            "SELECT count(*) FROM subjects_contact WHERE last_interaction_at < now() - interval '3 years'"
        ).fetchone()[0]


def sweep(url: str) -> dict[str, object]:
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "false", "RETENTION_BATCH_SIZE": BATCH}
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    result = subprocess.run(
        [sys.executable, "-c", SWEEP], env=env, check=True, cwd=ROOT, capture_output=True, text=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def sql_delete(url: str) -> tuple[float, int]:
    """The same rows, by hand: every table that references a contact, then the contacts."""
    with psycopg.connect(url, autocommit=True) as conn:
        referencing = conn.execute(
            """
            SELECT cl.relname, a.attname FROM pg_constraint con
            JOIN pg_class cl ON cl.oid = con.conrelid
            JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1]
            WHERE con.contype = 'f' AND con.confrelid = 'subjects_contact'::regclass
            """
        ).fetchall()
        due = "SELECT id FROM subjects_contact WHERE last_interaction_at < now() - interval '3 years'"
        started = time.perf_counter()
        with conn.transaction():
            # The consent ledger refuses deletes unless erasure is switched on (its trigger).
            conn.execute("SELECT set_config('personvern.erasure', 'on', true)")
            for table, column in referencing:
                conn.execute(f'DELETE FROM "{table}" WHERE "{column}" IN ({due})')
            deleted = conn.execute(f"DELETE FROM subjects_contact WHERE id IN ({due})").rowcount
        return time.perf_counter() - started, deleted


if __name__ == "__main__":
    rows = []
    for contacts in SIZES:
        due = contacts // 5
        url = prepare_database(name="retention", contacts=contacts)
        migrate(url)
        marked = mark_due(url, due)
        swept = sweep(url)
        baseline_url = prepare_database(name="retention_sql", contacts=contacts)
        migrate(baseline_url)
        mark_due(baseline_url, due)
        sql_seconds, sql_deleted = sql_delete(baseline_url)
        rows.append(
            (
                f"{contacts:,} contacts, {marked:,} due",
                f"sweep {swept['seconds']:.1f} s ({swept['deleted']:,} deleted, {swept['errors']} errors, "
                f"{swept['status']}), peak {swept['peak_mb']:.0f} MB; "
                f"SQL DELETE {sql_seconds:.1f} s ({sql_deleted:,}); "
                f"ratio {swept['seconds'] / sql_seconds:.1f}x",
            )
        )
        print(rows[-1], flush=True)
    report(f"retention sweep (batches of {BATCH})", rows)
