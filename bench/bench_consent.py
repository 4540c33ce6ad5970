"""The consent check: which of 100,000 addresses may receive purpose P, on 1,000,000 contacts.

``consent.selectors.consent_allowed_emails`` (the projection, looked up in
chunks through the email index and the projection's unique index) against the
same question asked as one hand-written SQL query over the ledger (the latest
event per contact and purpose: the join the projection replaces), in the same
run, on the same rows. Both answers must be equal. Also: the projection asked
by hand-written SQL, the single-contact check, and peak memory at two sizes of
the question, to show that memory follows the question, not the register.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time

from common import ROOT, peak_memory_mb, prepare_database, report, setup_django

CONTACTS = int(os.environ.get("BENCH_CONSENT_CONTACTS", "1000000"))
QUESTION = int(os.environ.get("BENCH_CONSENT_EMAILS", "100000"))
PURPOSE = "marketing_events"  # consent only: the SQL below asks exactly the same question

LEDGER_SQL = """
WITH asked AS (SELECT unnest(%(emails)s::text[]) AS email),
people AS (
    SELECT c.id, c.email FROM subjects_contact c JOIN asked a ON a.email = c.email
    WHERE c.source_type NOT IN ('data_collector', 'marketing_partner', 'public_source', 'social_network')
       OR c.source_attests_consent
),
latest AS (
    SELECT DISTINCT ON (e.contact_id, e.purpose_id) e.contact_id, e.purpose_id, e.action, e.channel, e.id
    FROM consent_consentevent e JOIN people p ON p.id = e.contact_id
    WHERE e.purpose_id IN (%(purpose)s, %(dm)s)
      -- An unconfirmed web sign-up and its expiry never moved a state (issue 9): skip them.
      AND e.action <> 'expired'
      AND NOT (e.action = 'granted' AND e.channel = 'web_form' AND e.authority IN ('', 'person_unconfirmed'))
    ORDER BY e.contact_id, e.purpose_id, e.id DESC
)
SELECT p.email FROM people p
JOIN subjects_contact c ON c.id = p.id
LEFT JOIN latest l ON l.contact_id = p.id AND l.purpose_id = %(purpose)s
LEFT JOIN latest o ON o.contact_id = p.id AND o.purpose_id = %(dm)s
WHERE (o.action IS NULL OR o.action <> 'objected')
  AND (
    c.email_kind = 'functional' AND (l.action IS NULL OR l.action NOT IN ('withdrawn', 'expired', 'objected'))
      AND NOT (c.email = ANY(%(suppressed)s::text[]))
    OR l.action = 'granted'
    OR l.action = 'confirmed' AND EXISTS (
        -- a confirmation counts when the event before it left the consent pending
        SELECT 1 FROM consent_consentevent g
        WHERE g.contact_id = p.id AND g.purpose_id = %(purpose)s AND g.id < l.id
          AND g.action = 'granted' AND g.channel = 'web_form'
          AND NOT EXISTS (SELECT 1 FROM consent_consentevent x WHERE x.contact_id = p.id
                          AND x.purpose_id = %(purpose)s AND x.id > g.id AND x.id < l.id)
    )
  )
"""

PROJECTION_SQL = """
SELECT c.email FROM subjects_contact c
JOIN consent_consentstate s ON s.contact_id = c.id AND s.purpose_id = %(purpose)s AND s.state = 'granted'
LEFT JOIN consent_consentstate o ON o.contact_id = c.id AND o.purpose_id = %(dm)s
WHERE c.email = ANY(%(emails)s::text[])
  AND (o.state IS NULL OR o.state <> 'objected')
  AND (c.source_type NOT IN ('data_collector', 'marketing_partner', 'public_source', 'social_network')
       OR c.source_attests_consent)
UNION
SELECT c.email FROM subjects_contact c
LEFT JOIN consent_consentstate s ON s.contact_id = c.id AND s.purpose_id = %(purpose)s
LEFT JOIN consent_consentstate o ON o.contact_id = c.id AND o.purpose_id = %(dm)s
WHERE c.email = ANY(%(emails)s::text[]) AND c.email_kind = 'functional'
  AND NOT (c.email = ANY(%(suppressed)s::text[]))
  AND (s.state IS NULL OR s.state NOT IN ('withdrawn', 'expired', 'objected'))
  AND (o.state IS NULL OR o.state <> 'objected')
  AND (c.source_type NOT IN ('data_collector', 'marketing_partner', 'public_source', 'social_network')
       OR c.source_attests_consent)
"""


def ensure_consent_data(url: str) -> None:
    """A template seeded before the consent app existed gets its tables and demo history here.

    In a child process, so that seeding does not count in this process's peak memory.
    """
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "false"}
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "-v0"], env=env, check=True, cwd=ROOT)
    subprocess.run([sys.executable, __file__, "--seed-consents"], env=env, check=True, cwd=ROOT)


def seed_consents_if_missing() -> None:
    setup_django(os.environ["DATABASE_URL"])
    from django.db import connection, transaction
    from django.utils import timezone

    from consent.demo import seed_consents
    from consent.models import ConsentEvent
    from core.demo import DemoContext
    from subjects.models import Contact

    if ConsentEvent.objects.exists():
        return
    ids = Contact.objects.order_by("pk").values_list("pk", flat=True)
    ctx = DemoContext(
        contacts=Contact.objects.count(), interactions_per_contact=5, now=timezone.now(),
        rng=random.Random(2018), out=sys.stdout,
    )  # fmt: skip
    ctx.facts["contact_ids"] = (ids.first(), ids.last() + 1)
    with transaction.atomic():
        seed_consents(ctx)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def main() -> None:
    url = prepare_database(name="consent", contacts=CONTACTS)
    ensure_consent_data(url)
    setup_django(url)
    from django.db import connection

    from consent.models import ConsentState, Purpose
    from consent.selectors import consent_allowed, consent_allowed_emails
    from subjects.models import Contact

    purpose = Purpose.objects.get(code=PURPOSE).pk
    dm = Purpose.objects.get(code=Purpose.DIRECT_MARKETING).pk
    low, high = (
        Contact.objects.order_by("pk").values_list("pk", flat=True)[:1][0],
        Contact.objects.latest("pk").pk,
    )
    rng = random.Random(15)
    ids = rng.sample(range(low, high + 1), min(QUESTION, high - low + 1))
    emails = list(Contact.objects.filter(pk__in=ids).values_list("email", flat=True))
    emails += [f"ukjent{i}@example.no" for i in range(QUESTION - len(emails))]
    memory_before = peak_memory_mb()

    def best_of(fn, runs=3):
        times, result = [], None
        for _ in range(runs):
            started = time.perf_counter()
            result = fn()
            times.append(time.perf_counter() - started)
        return min(times), result

    small_seconds, _ = best_of(
        lambda: consent_allowed_emails(emails=emails[:10_000], purpose_code=PURPOSE), 1
    )
    memory_small = peak_memory_mb()
    check_seconds, cleared = best_of(lambda: consent_allowed_emails(emails=emails, purpose_code=PURPOSE))
    memory_full = peak_memory_mb()

    # An opt-out outlives erasure for a function's address too (issue 9, item 5): the SQL gets
    # the suppressed addresses among those asked, resolved here (keyed hashes) outside its timing.
    from consent.models import SuppressionEntry
    from core.crypto import email_hash

    hashes = {email_hash(e, purpose=SuppressionEntry.SUPPRESSION_PURPOSE): e for e in emails}
    suppressed = [
        hashes[h]
        for h in SuppressionEntry.objects.filter(email_hash__in=list(hashes)).values_list(
            "email_hash", flat=True
        )
    ]

    def sql(query: str) -> set[str]:
        with connection.cursor() as cursor:
            cursor.execute(query, {"emails": emails, "purpose": purpose, "dm": dm, "suppressed": suppressed})
            return {row[0] for row in cursor.fetchall()}

    ledger_seconds, by_ledger = best_of(lambda: sql(LEDGER_SQL))
    projection_seconds, by_projection = best_of(lambda: sql(PROJECTION_SQL))
    assert cleared == by_ledger == by_projection, (len(cleared), len(by_ledger), len(by_projection))

    contacts = list(Contact.objects.filter(pk__in=ids[:1000]))
    started = time.perf_counter()
    for contact in contacts:
        consent_allowed(contact=contact, purpose_code=PURPOSE)
    single_ms = (time.perf_counter() - started) / len(contacts) * 1000

    states = ConsentState.objects.count()
    report(
        f"consent check: {len(emails):,} addresses, purpose {PURPOSE}, {high - low + 1:,} contacts, "
        f"{states:,} projection rows",
        [
            ("consent_allowed_emails", f"{check_seconds:.2f} s, {len(cleared):,} cleared (best of 3)"),
            ("hand-written SQL over the ledger", f"{ledger_seconds:.2f} s (same answer)"),
            ("hand-written SQL over the projection", f"{projection_seconds:.2f} s (same answer)"),
            ("consent_allowed, one contact", f"{single_ms:.2f} ms per call (mean of {len(contacts)})"),
            ("peak memory", f"{memory_before:.0f} MB before; {memory_small:.0f} MB after 10,000 "
             f"addresses ({small_seconds:.2f} s); {memory_full:.0f} MB after {len(emails):,}"),
        ],
    )  # fmt: skip


if __name__ == "__main__":
    if sys.argv[1:] == ["--seed-consents"]:
        seed_consents_if_missing()
    else:
        main()
