"""The integration API under load, side by side with its baselines in one run.

1. Bulk consent check through the API (the whole Django + DRF stack, JSON in and
   out) against ``consent_clearances`` called in-process, 100,000 addresses over the
   seeded register; peak memory at 10,000 and 100,000 addresses.
2. Single consent check under load: gunicorn with two workers and ``wrk`` on the same
   machine, against a bare DRF view answering a constant in the same gunicorn,
   alternating three runs each (requests per second, p99, errors).
3. Webhook deliveries: N deliveries to a local receiver that verifies every one with
   ``standardwebhooks``; then with a receiver failing half the time for a minute,
   every delivery arrives once it recovers, and no success is recorded twice.

``python bench/bench_api.py [bulk] [single] [webhooks]`` (all by default). Sizes:
BENCH_API_CONTACTS (1,000,000), BENCH_API_EMAILS (100,000), BENCH_API_SECONDS (per wrk
run, 10), BENCH_API_CONNECTIONS (wrk, 8), BENCH_API_PORT (8104), BENCH_API_DELIVERIES
(1,000), BENCH_API_FAILING_SECONDS (60). The load average is printed around each part.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

from common import ROOT, peak_memory_mb, prepare_database, report, setup_django

CONTACTS = int(os.environ.get("BENCH_API_CONTACTS", "1000000"))
QUESTION = int(os.environ.get("BENCH_API_EMAILS", "100000"))
LOAD_SECONDS = float(os.environ.get("BENCH_API_SECONDS", "10"))
DELIVERIES = int(os.environ.get("BENCH_API_DELIVERIES", "1000"))
CONNECTIONS = int(os.environ.get("BENCH_API_CONNECTIONS", "8"))
PORT = int(os.environ.get("BENCH_API_PORT", "8104"))
FAILING_SECONDS = float(os.environ.get("BENCH_API_FAILING_SECONDS", "60"))
PURPOSE = "marketing_events"
HERE = Path(__file__).resolve().parent


def _client_key(name: str) -> str:
    from django.contrib.auth import get_user_model

    from api.services import api_client_create
    from core.audit import Actor

    owner, _ = get_user_model().objects.get_or_create(username="bench", defaults={"is_staff": True})
    _client, key = api_client_create(
        actor=Actor.system("bench"), name=f"{name}-{time.time_ns()}", owner=owner,
        scopes=["consent:check"], rate_limit=10_000_000,
    )  # fmt: skip
    return key


def bulk_check(emails: list[str]) -> list[tuple[str, str]]:
    from django.test import Client

    from consent.selectors import consent_clearances

    key = _client_key("bench-bulk")
    http = Client(headers={"Authorization": f"Api-Key {key}"}, SERVER_NAME="localhost")

    def through_api(subset: list[str]) -> dict:
        response = http.post(
            "/api/v1/consent/check", {"purpose": PURPOSE, "emails": subset}, content_type="application/json"
        )
        assert response.status_code == 200, response.content[:300]
        return json.loads(response.content)

    before = peak_memory_mb()
    through_api(emails[:10_000])
    after_small = peak_memory_mb()
    timings_api, timings_direct = [], []
    for _ in range(3):
        started = time.perf_counter()
        answer = through_api(emails)
        timings_api.append(time.perf_counter() - started)
        started = time.perf_counter()
        cleared = consent_clearances(emails=emails, purpose_code=PURPOSE)
        timings_direct.append(time.perf_counter() - started)
    after_full = peak_memory_mb()
    by_api = {row["email"] for row in answer["results"] if row["allowed"]}
    assert by_api == set(cleared), "the API and the in-process check must agree"
    api_s, direct_s = min(timings_api), min(timings_direct)
    return [
        ("through the API", f"{api_s:.2f} s (best of 3), {len(by_api):,} allowed"),
        ("in-process consent_clearances", f"{direct_s:.2f} s (best of 3)"),
        ("ratio", f"{api_s / direct_s:.2f}x (target: at most 1.3x)"),
        ("peak memory", f"{before:.0f} MB before; {after_small:.0f} MB after 10,000; "
         f"{after_full:.0f} MB after {len(emails):,}"),
    ]  # fmt: skip


def _load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def _wrk(url: str, headers: dict[str, str], seconds: float) -> tuple[float, float, int]:
    """(requests per second, p99 in ms, errors) from one ``wrk`` run (one thread: it shares our two cores)."""
    command = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds:.0f}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r"\s99%\s+([\d.]+)(us|ms|s)\b", out).groups()
    p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, p99, errors + (int(non_2xx.group(1)) if non_2xx else 0)


def single_check_under_load(database_url: str, email: str) -> list[tuple[str, str]]:
    key = _client_key("bench-single")
    env = {
        **os.environ, "DATABASE_URL": database_url, "DEBUG": "false", "PYTHONPATH": f"{HERE}:{ROOT}",
        "DJANGO_SETTINGS_MODULE": "bench_api_settings",
    }  # fmt: skip
    # Two sync workers, as production runs them (config/gunicorn.py), without its access log.
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "-w", "2", "-b", f"127.0.0.1:{PORT}",
         "--log-level", "warning"],
        cwd=ROOT, env=env, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{PORT}"
    check = f"{base}/api/v1/consent/check?purpose={PURPOSE}"
    headers = {"Authorization": f"Api-Key {key}", "Personvern-Email": email}
    try:
        import httpx

        for _ in range(100):
            try:
                httpx.get(f"{base}/bench/constant", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        # The address cleared or not, the answer must be the API's, not an error page.
        assert httpx.get(check, headers=headers).status_code == 200
        _wrk(check, headers, 3)  # warm both workers
        _wrk(f"{base}/bench/constant", {}, 3)
        load_before = _load_average()
        constant, api = [], []
        for _ in range(3):  # alternating, so both sides see the same machine
            constant.append(_wrk(f"{base}/bench/constant", {}, LOAD_SECONDS))
            api.append(_wrk(check, headers, LOAD_SECONDS))
        load_after = _load_average()
    finally:
        server.terminate()
        server.wait(timeout=20)
    best_constant, best_api = max(constant), max(api)

    def runs(rows: list[tuple[float, float, int]]) -> str:
        return "; ".join(f"{r:.0f} req/s p99 {p:.1f} ms {e} errors" for r, p, e in rows)

    return [
        ("bare DRF view (constant), 3 runs", runs(constant)),
        ("GET /api/v1/consent/check, 3 runs", runs(api)),
        (
            "ratio (best runs)",
            f"{best_api[0] / best_constant[0]:.2f} of the bare view "
            f"(target: at least 0.5, p99 < 50 ms, 0 errors)",
        ),
        ("wrk", f"1 thread, {CONNECTIONS} connections, {LOAD_SECONDS:.0f} s per run, gunicorn -w 2 (sync)"),
        ("load average (1/5/15 min)", f"before {load_before}; after {load_after}"),
    ]


def webhook_deliveries() -> list[tuple[str, str]]:
    from django.db.models import Count, Q
    from django.utils import timezone

    from api.models import WebhookAttempt, WebhookDelivery
    from api.webhooks import services
    from core.audit import Actor

    sys.path.insert(0, str(ROOT))
    from tests.api.receiver import webhook_receiver

    rows: list[tuple[str, str]] = []
    actor = Actor.system("bench")
    for label, failing_for in (
        ("receiver always up", 0.0),
        (f"receiver failing half the time for {FAILING_SECONDS:.0f} s, then up", FAILING_SECONDS),
    ):
        WebhookDelivery.objects.all().delete()
        with webhook_receiver() as receiver:
            subscription, receiver.secret = services.subscription_create(
                actor=actor, url=receiver.url, events=["consent.changed"]
            )
            rng = random.Random(7)
            data = {"email": "bench@example.no", "purpose": PURPOSE, "allowed": True}
            for _ in range(DELIVERIES):
                services.deliveries_queue(event="consent.changed", data=data)
            ids = list(WebhookDelivery.objects.filter(subscription=subscription).values_list("pk", flat=True))
            started = time.perf_counter()
            recovers_at = started + failing_for

            def answer(recovers_at: float = recovers_at, rng: random.Random = rng) -> int:
                # Half the answers fail until the receiver recovers.
                return 500 if time.perf_counter() < recovers_at and rng.random() < 0.5 else 200

            receiver.answer = answer  # type: ignore[method-assign]

            def send(chunk: list[int]) -> None:
                from django.db import connection

                for pk in chunk:
                    services.delivery_attempt(delivery_id=pk)
                connection.close()

            rounds = 0
            while WebhookDelivery.objects.filter(pk__in=ids).exclude(status="delivered").exists():
                rounds += 1
                subscription.refresh_from_db()
                if subscription.paused_at:
                    # The circuit opened; staff resume it (as they would once the receiver is back).
                    services.subscription_resume(subscription=subscription, actor=actor)
                due = services.deliveries_due(limit=DELIVERIES)
                pool = [threading.Thread(target=send, args=(due[i::8],)) for i in range(8)]
                for thread in pool:
                    thread.start()
                for thread in pool:
                    thread.join()
                # Bring the retries forward instead of waiting the real backoff (hours), a second apart.
                time.sleep(1)
                WebhookDelivery.objects.filter(pk__in=ids, status="retrying").update(
                    next_attempt_at=timezone.now()
                )
            seconds = time.perf_counter() - started
            delivered = WebhookDelivery.objects.filter(pk__in=ids, status="delivered").count()
            verified = {r.message_id for r in receiver.delivered}
            twice = len(receiver.delivered) - len(verified)
            attempts = WebhookAttempt.objects.filter(delivery_id__in=ids)
            failed_attempts = attempts.exclude(status_code__gte=200, status_code__lt=300).count()
            # No delivery has its success recorded twice.
            success_twice = (
                attempts.values("delivery_id")
                .annotate(ok=Count("pk", filter=Q(status_code__gte=200, status_code__lt=300)))
                .filter(ok__gt=1)
                .count()
            )
            rows.append((label, f"{delivered:,}/{len(ids):,} delivered, {len(verified):,} verified by "
                         f"standardwebhooks; {twice} delivered twice, {success_twice} successes "
                         f"recorded twice; {failed_attempts:,} failed attempts; {rounds} rounds, "
                         f"{seconds:.1f} s"))  # fmt: skip
    return rows


PARTS = ("bulk", "single", "webhooks")


def main() -> None:
    parts = [p for p in sys.argv[1:] if p in PARTS] or list(PARTS)
    url = prepare_database(name="api", contacts=CONTACTS)
    subprocess.run([sys.executable, str(HERE / "bench_consent.py"), "--seed-consents"],
                   env={**os.environ, "DATABASE_URL": url}, check=True, cwd=ROOT)  # fmt: skip
    os.environ["EMAIL_URL"] = "dummymail://"  # the circuit's mail to the privacy officer stays here
    setup_django(url)
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)
    # The in-process check and the test client's requests: one line per request is not what is measured.
    logging.getLogger("personvern.request").setLevel(logging.WARNING)
    from subjects.models import Contact

    ids = list(Contact.objects.order_by("pk").values_list("pk", flat=True))
    rng = random.Random(15)
    chosen = rng.sample(ids, min(QUESTION, len(ids)))
    emails = list(Contact.objects.filter(pk__in=chosen).values_list("email", flat=True))
    emails += [f"ukjent{i}@example.no" for i in range(QUESTION - len(emails))]
    print(f"load average at the start: {_load_average()}", flush=True)
    if "bulk" in parts:
        before = _load_average()
        rows = bulk_check(emails)
        rows.append(("load average (1/5/15 min)", f"before {before}; after {_load_average()}"))
        report(f"bulk consent check: {len(emails):,} addresses over {len(ids):,} contacts", rows)
    if "single" in parts:
        report(
            "single consent check under load (gunicorn -w 2, wrk)", single_check_under_load(url, emails[0])
        )
    if "webhooks" in parts:
        before = _load_average()
        rows = webhook_deliveries()
        rows.append(("load average (1/5/15 min)", f"before {before}; after {_load_average()}"))
        report(f"webhooks: {DELIVERIES:,} deliveries to a local receiver", rows)


if __name__ == "__main__":
    main()
