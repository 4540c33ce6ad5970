"""Data-subject rights at 1,000,000 contacts on PostgreSQL (issue 4, "Performance").

1. The access report (Art. 15) for one contact with 10,000 interactions:
   time, number of queries, peak memory. Baseline: the same rows read by one
   hand-written SELECT per table, in the same run.
2. Erasure (Art. 17) of that contact, in one transaction: time and number of
   statements. Baseline: the same work by hand (journal and suppression rows,
   the interactions anonymised in one UPDATE, the other rows and the contact
   deleted, an audit row), alternating with the erasure, each rolled back, best
   of three; then the erasure once more, committed.
3. Twenty access reports queued at once, built by a real Celery worker (needs
   REDIS_URL; the worker runs with two processes): the engine alone. Twenty access
   requests through the whole workflow (submit, verify, complete, the worker builds
   and attaches each answer) are measured by bench/bench_portal.py.

Sizes: BENCH_RIGHTS_CONTACTS (default 1,000,000), BENCH_RIGHTS_INTERACTIONS (10,000).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
import tracemalloc
import uuid
from datetime import UTC, datetime, timedelta

from common import ROOT, peak_memory_mb, prepare_database, report, setup_django

CONTACTS = int(os.environ.get("BENCH_RIGHTS_CONTACTS", "1000000"))
INTERACTIONS = int(os.environ.get("BENCH_RIGHTS_INTERACTIONS", "10000"))
CONCURRENT = 20


def migrate(url: str) -> None:
    # The template was seeded with the migrations of its day; bring the copy up to date,
    # app by app, so that one app's unfinished migration does not stop the others'.
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "false"}
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    for app in ("subjects", "consent", "retention", "requests_dsar", "rights", None):
        command = [sys.executable, str(ROOT / "manage.py"), "migrate", *([app] if app else []), "-v0"]
        if subprocess.run(command, env=env, cwd=ROOT, capture_output=True).returncode:
            print(f"note: migrate {app or '(all)'} failed on this tree; measuring without it", flush=True)


def give_interactions(contact_id: int, count: int) -> None:
    from django.db import connection

    from core.bulk import bulk_insert
    from subjects.models import Interaction

    start = datetime(2022, 1, 1, tzinfo=UTC)
    rows = (
        (contact_id, "call", start + timedelta(hours=i), f"Samtale nr. {i} om lisens og faktura", None)
        for i in range(count)
    )
    bulk_insert(Interaction, ["contact", "kind", "occurred_at", "summary", "staff_member"], rows)
    with connection.cursor() as cursor:
        # As after a night's autovacuum: hint bits set, statistics fresh.
        cursor.execute("VACUUM ANALYZE subjects_interaction")


def bench_access(email: str) -> list[tuple[str, str]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from rights.services import access_report_build

    access_report_build(emails=[email], reference="BENCH-WARM")  # warm caches and templates
    times = []
    for _ in range(10):
        started = time.perf_counter()
        content = access_report_build(emails=[email], reference="BENCH")
        times.append(time.perf_counter() - started)
    with CaptureQueriesContext(connection) as queries:
        access_report_build(emails=[email], reference="BENCH")
    tracemalloc.start()
    access_report_build(emails=[email], reference="BENCH")
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    # Baseline: the same rows, one hand-written SELECT per table, no report.
    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute("SELECT * FROM subjects_contact WHERE email = %s", [email])
        cursor.fetchall()
        cursor.execute(
            "SELECT i.kind, i.occurred_at, i.summary FROM subjects_interaction i "
            "JOIN subjects_contact c ON c.id = i.contact_id WHERE c.email = %s ORDER BY i.id",
            [email],
        )
        cursor.fetchall()
        baseline = time.perf_counter() - started
    return [
        ("access report, median of 10", f"{statistics.median(times):.3f} s (min {min(times):.3f} s)"),
        ("queries", f"{len(queries.captured_queries)} (one per registered model; independent of rows)"),
        ("zip size", f"{len(content) / 1024:.0f} KiB"),
        ("peak Python allocations while building", f"{traced_peak / 1024 / 1024:.1f} MB"),
        ("peak resident memory of the process", f"{peak_memory_mb():.0f} MB"),
        ("baseline: two hand-written SELECTs", f"{baseline:.3f} s"),
    ]


def _erase_once(email: str, *, commit: bool) -> tuple[float, list[str], object]:
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from core.audit import Actor
    from rights.services import subject_erase

    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        started = time.perf_counter()
        outcome = subject_erase(emails=[email], actor=Actor.system("bench"), reference="BENCH-ERASE")
        seconds = time.perf_counter() - started
        transaction.set_rollback(not commit)
    if commit:
        # The COMMIT is part of the erasure's one transaction.
        seconds = time.perf_counter() - started
    return seconds, [q["sql"] for q in queries.captured_queries], outcome


def bench_erase(email: str, contact_id: int) -> list[tuple[str, str]]:
    """The erasure beside the hand-written SQL doing the same work, alternately, each rolled back;
    best of three each; then the erasure once more, committed."""
    from subjects.models import Interaction

    rows = Interaction.objects.filter(contact_id=contact_id).count()
    engine, baseline = [], []
    for _ in range(3):
        baseline.append(erase_baseline(contact_id, email))
        engine.append(_erase_once(email, commit=False)[0])
    load_before = os.getloadavg()[0]
    seconds, statements, outcome = _erase_once(email, commit=True)
    per_table = sum(1 for s in statements if "subjects_interaction" in s and ("UPDATE" in s or "DELETE" in s))
    best, best_sql = min(engine), min(baseline)
    return [
        ("interactions of the contact before", f"{rows:,}"),
        (
            "erase one contact, rolled back, best of 3",
            f"{best:.3f} s (runs {', '.join(f'{t:.3f}' for t in engine)}), one transaction",
        ),
        (
            "baseline: the same work by hand, rolled back, best of 3",
            f"{best_sql:.3f} s (runs {', '.join(f'{t:.3f}' for t in baseline)}); "
            f"ratio {best / best_sql:.1f}x",
        ),
        ("erase one contact, committed", f"{seconds:.3f} s (load average {load_before:.2f} when it began)"),
        ("rows deleted", ", ".join(f"{k} {v}" for k, v in outcome.erased.items())),
        ("rows anonymised", ", ".join(f"{k} {v}" for k, v in outcome.anonymised.items())),
        ("statements", f"{len(statements)} in all, {per_table} writing subjects_interaction"),
    ]


def bench_replay() -> list[tuple[str, str]]:
    """erasure_replay's scan: every address column of the register read and hashed once."""
    from core.audit import Actor
    from rights.services import erasure_replay

    started = time.perf_counter()
    outcome = erasure_replay(actor=Actor.system("bench"), dry_run=True)
    seconds = time.perf_counter() - started
    return [
        (
            "erasure_replay scan (dry run)",
            f"{seconds:.1f} s over every address; {outcome.people} people back",
        ),
        ("peak resident memory after the scan", f"{peak_memory_mb():.0f} MB"),
    ]


def erase_baseline(contact_id: int, email: str) -> float:
    """The erasure's work written by hand, in one transaction, rolled back.

    What the engine does for this contact: the journal and suppression rows
    (keyed hashes), the interactions anonymised in place (the same replacements:
    no contact, no summary, no staff member, the time cut to its month), every
    other row that references the contact deleted, then the contact, and one
    audit row. No holds, guards or statistics checked: the floor.
    """
    from django.db import connection, transaction

    from consent.models import SuppressionEntry
    from core.crypto import email_hash
    from rights.models import ErasureJournalEntry

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT cl.relname, a.attname FROM pg_constraint con
            JOIN pg_class cl ON cl.oid = con.conrelid
            JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1]
            WHERE con.contype = 'f' AND con.confrelid = 'subjects_contact'::regclass
              AND cl.relname <> 'subjects_interaction'
            """
        )
        referencing = cursor.fetchall()
        journal = email_hash(email, purpose=ErasureJournalEntry.HASH_PURPOSE)
        suppression = email_hash(email, purpose=SuppressionEntry.SUPPRESSION_PURPOSE)
        started = time.perf_counter()
        cursor.execute(
            "INSERT INTO rights_erasurejournalentry (email_hash, reference, erased_at) "
            "VALUES (%s, 'SQL', now())",
            [journal],
        )
        cursor.execute(
            "INSERT INTO consent_suppressionentry (email_hash, reason, created_at) "
            "VALUES (%s, 'erasure', now()) ON CONFLICT DO NOTHING",
            [suppression],
        )
        cursor.execute(
            "UPDATE subjects_interaction SET contact_id = NULL, summary = '', staff_member_id = NULL, "
            "occurred_at = date_trunc('month', occurred_at AT TIME ZONE 'Europe/Oslo') WHERE contact_id = %s",
            [contact_id],
        )
        # The consent ledger refuses deletes unless erasure is switched on (its trigger).
        cursor.execute("SELECT set_config('personvern.erasure', 'on', true)")
        for table, column in referencing:
            cursor.execute(f'DELETE FROM "{table}" WHERE "{column}" = %s', [contact_id])
        cursor.execute("DELETE FROM subjects_contact WHERE id = %s", [contact_id])
        cursor.execute(
            "INSERT INTO core_auditevent (at, actor_kind, actor_id, actor_role, action, target_type, "
            "target_id, changed_fields, seq, ip_hash, previous_hash, chain_hash) "
            "SELECT now(), 'system', 'bench', '', "
            "'rights.erase', 'subjects.contact', 'SQL', '[]', coalesce(max(seq), 0) + 1, '', '', '' "
            "FROM core_auditevent"
        )
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    return seconds


def start_worker(url: str, queue: str) -> subprocess.Popen:
    from config.celery_app import app

    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "false",
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
    }
    env["EMAIL_URL"] = "memorymail://"
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue, "-c", "2",
         "--loglevel=WARNING", "-n", f"{queue}@%h", "--without-mingle", "--without-gossip"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if app.control.ping(destination=[f"{queue}@{os.uname().nodename}"], timeout=0.5):
            return process
    process.kill()
    sys.exit("the Celery worker did not start")


def bench_twenty(url: str) -> list[tuple[str, str]]:
    if not os.environ.get("REDIS_URL"):
        return [("twenty requests at once", "skipped: set REDIS_URL for a real worker")]
    from config.celery_app import app
    from subjects.models import Contact

    queue = f"bench-{uuid.uuid4().hex[:8]}"
    app.conf.task_always_eager = False
    app.conf.task_default_queue = queue
    contacts = list(Contact.objects.order_by("pk").values_list("pk", "email")[1000 : 1000 + CONCURRENT])
    worker = start_worker(url, queue)
    try:
        return _twenty_tasks(contacts)
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def _twenty_tasks(contacts: list[tuple[int, str]]) -> list[tuple[str, str]]:
    from rights.tasks import access_report_build_for_contact
    from subjects.models import private_storage

    marker = f"BENCH-{uuid.uuid4().hex[:6]}"
    # Warm both worker processes first (imports, templates, translations load on first use).
    warm = [f"access-reports/{marker}-warm-{i}.zip" for i in range(4)]
    for i in range(4):
        access_report_build_for_contact.delay(contacts[0][0], f"{marker}-warm-{i}")
    while not all(private_storage.exists(n) for n in warm):
        time.sleep(0.05)
    for name in warm:
        private_storage.delete(name)
    from django.utils import timezone

    started_at = timezone.now()
    started = time.perf_counter()
    for i, (pk, _email) in enumerate(contacts):
        access_report_build_for_contact.delay(pk, f"{marker}-{i}")
    names = [f"access-reports/{marker}-{i}.zip" for i in range(len(contacts))]
    waiting = list(names)
    while waiting:
        waiting = [n for n in waiting if not private_storage.exists(n)]
        if time.perf_counter() - started > 300:
            return [("twenty requests at once", "gave up after 300 s")]
        time.sleep(0.01)
    done = time.perf_counter() - started
    from django.db.models import Max, Min

    from core.models import AuditEvent

    span = AuditEvent.objects.filter(action="rights.access_report", at__gte=started_at)
    bounds = span.aggregate(first=Min("at"), last=Max("at"))
    for name in names:
        private_storage.delete(name)
    return [
        (
            "twenty access reports at once",
            f"{done:.2f} s until all twenty zips were stored by the worker (2 processes, warmed)",
        ),
        ("worker span, first to last report", f"{(bounds['last'] - bounds['first']).total_seconds():.2f} s"),
        ("what ran", "twenty rights.tasks.access_report_build_for_contact tasks; no request workflow"),
    ]


if __name__ == "__main__":
    url = prepare_database(name="rights", contacts=CONTACTS)
    migrate(url)
    setup_django(url)
    from subjects.models import Contact

    contact_id, email = Contact.objects.order_by("pk").values_list("pk", "email")[CONTACTS // 2]
    give_interactions(contact_id, INTERACTIONS)
    count = Contact.objects.get(pk=contact_id).interactions.count()
    rows = [
        ("database", f"{Contact.objects.count():,} contacts; the one measured has {count:,} interactions")
    ]
    rows += bench_access(email)
    rows += bench_erase(email, contact_id)
    rows += bench_replay()
    rows += bench_twenty(url)
    report("rights: access report, erasure, twenty requests", rows)
