"""The integration API under load, side by side with its baselines in one run.

1. Bulk consent check through the API (the whole Django + DRF stack, JSON in and
   out) against ``consent_clearances`` called in-process, 100,000 addresses over the
   seeded register; peak memory at 10,000 and 100,000 addresses.
2. Single consent check under load: gunicorn with two workers, a threaded HTTP load
   generator on the same machine, against a bare DRF view answering a constant in
   the same gunicorn (requests per second, p99, errors).
3. Webhook deliveries: N deliveries to a local receiver that verifies every one with
   ``standardwebhooks``; then with a receiver failing half the time for a while,
   every delivery arrives once it recovers, and none is recorded twice.

Sizes: BENCH_API_CONTACTS (1,000,000), BENCH_API_EMAILS (100,000),
BENCH_API_SECONDS (load per side, 10), BENCH_API_DELIVERIES (1,000).
"""

from __future__ import annotations

import json
import os
import random
import socket
import statistics
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
PURPOSE = "marketing_events"
HERE = Path(__file__).resolve().parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


def _load(
    url: str, headers: dict[str, str], seconds: float, threads: int = 16
) -> tuple[float, float, int, int]:
    import httpx

    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop = [0.0]
    # The clock starts when every client is built and waiting (the barrier's action).
    ready = threading.Barrier(threads + 1, action=lambda: stop.__setitem__(0, time.monotonic() + seconds))

    def worker() -> None:
        nonlocal errors
        mine, bad = [], 0
        # Clients first (building an SSL context takes a while), then all start together.
        with httpx.Client(headers=headers, timeout=5) as http:
            ready.wait()
            while time.monotonic() < stop[0]:
                started = time.perf_counter()
                try:
                    ok = http.get(url).status_code == 200
                except httpx.HTTPError:
                    ok = False
                mine.append(time.perf_counter() - started)
                bad += not ok
        with lock:
            latencies.extend(mine)
            errors += bad

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    ready.wait()
    for thread in pool:
        thread.join()
    p99 = statistics.quantiles(latencies, n=100)[98] * 1000 if len(latencies) > 100 else float("nan")
    return len(latencies) / seconds, p99, len(latencies), errors


def single_check_under_load(database_url: str, email: str) -> list[tuple[str, str]]:
    port = _free_port()
    key = _client_key("bench-single")
    env = {
        **os.environ, "DATABASE_URL": database_url, "DEBUG": "false", "PYTHONPATH": f"{HERE}:{ROOT}",
        "DJANGO_SETTINGS_MODULE": "bench_api_settings",
    }  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "-w", "2", "-b", f"127.0.0.1:{port}",
         "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        import httpx

        for _ in range(100):
            try:
                httpx.get(f"http://127.0.0.1:{port}/bench/constant", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        base = f"http://127.0.0.1:{port}"
        check = f"{base}/api/v1/consent/check?purpose={PURPOSE}"
        headers = {"Authorization": f"Api-Key {key}", "Personvern-Email": email}
        _load(check, headers, 2)  # warm both workers
        constant = _load(f"{base}/bench/constant", {}, LOAD_SECONDS)
        api = _load(check, headers, LOAD_SECONDS)
    finally:
        server.terminate()
        server.wait(timeout=20)
    return [
        (
            "bare DRF view (constant)",
            f"{constant[0]:.0f} req/s, p99 {constant[1]:.1f} ms, {constant[3]} errors",
        ),
        ("GET /api/v1/consent/check", f"{api[0]:.0f} req/s, p99 {api[1]:.1f} ms, {api[3]} errors"),
        (
            "ratio",
            f"{api[0] / constant[0]:.2f} of the bare view (target: at least 0.5, p99 < 50 ms, 0 errors)",
        ),
    ]


def webhook_deliveries() -> list[tuple[str, str]]:
    from django.utils import timezone

    from api.models import WebhookDelivery
    from api.webhooks import services
    from core.audit import Actor

    sys.path.insert(0, str(ROOT))
    from tests.api.receiver import webhook_receiver

    rows: list[tuple[str, str]] = []
    actor = Actor.system("bench")
    for label, failing in (("receiver always up", 0.0), ("receiver failing half the time, then up", 0.5)):
        WebhookDelivery.objects.all().delete()
        with webhook_receiver() as receiver:
            subscription, receiver.secret = services.subscription_create(
                actor=actor, url=receiver.url, events=["consent.changed"]
            )
            rng = random.Random(7)
            receiver.script = [500 if rng.random() < failing else 200 for _ in range(DELIVERIES)]
            data = {"email": "bench@example.no", "purpose": PURPOSE, "allowed": True}
            for _ in range(DELIVERIES):
                services.deliveries_queue(event="consent.changed", data=data)
            ids = list(WebhookDelivery.objects.filter(subscription=subscription).values_list("pk", flat=True))
            started = time.perf_counter()

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
                    # The circuit opened; staff resume it once the receiver is back.
                    services.subscription_resume(subscription=subscription, actor=actor)
                due = services.deliveries_due(limit=DELIVERIES)
                pool = [threading.Thread(target=send, args=(due[i::8],)) for i in range(8)]
                for thread in pool:
                    thread.start()
                for thread in pool:
                    thread.join()
                # The receiver has recovered; bring the retries forward instead of waiting the backoff.
                WebhookDelivery.objects.filter(pk__in=ids, status="retrying").update(
                    next_attempt_at=timezone.now()
                )
            seconds = time.perf_counter() - started
            delivered = WebhookDelivery.objects.filter(pk__in=ids, status="delivered").count()
            verified = {r.message_id for r in receiver.delivered}
            twice = len(receiver.delivered) - len(verified)
            rows.append((label, f"{delivered:,}/{len(ids):,} delivered and verified ({len(verified):,} ids), "
                         f"{twice} delivered twice, {rounds} rounds, {seconds:.1f} s"))  # fmt: skip
    return rows


def main() -> None:
    url = prepare_database(name="api", contacts=CONTACTS)
    subprocess.run([sys.executable, str(HERE / "bench_consent.py"), "--seed-consents"],
                   env={**os.environ, "DATABASE_URL": url}, check=True, cwd=ROOT)  # fmt: skip
    os.environ["EMAIL_URL"] = "dummymail://"  # the circuit's mail to the privacy officer stays here
    setup_django(url)
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)
    from subjects.models import Contact

    ids = list(Contact.objects.order_by("pk").values_list("pk", flat=True))
    rng = random.Random(15)
    chosen = rng.sample(ids, min(QUESTION, len(ids)))
    emails = list(Contact.objects.filter(pk__in=chosen).values_list("email", flat=True))
    emails += [f"ukjent{i}@example.no" for i in range(QUESTION - len(emails))]
    report(f"bulk consent check: {len(emails):,} addresses over {len(ids):,} contacts", bulk_check(emails))
    report("single consent check under load (gunicorn -w 2)", single_check_under_load(url, emails[0]))
    report(f"webhooks: {DELIVERIES:,} deliveries to a local receiver", webhook_deliveries())


if __name__ == "__main__":
    main()
