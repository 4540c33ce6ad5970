"""The portal under load, and twenty access requests end to end (issue 9, "Performance").

1. Every public GET page of the portal and the consent forms under load: gunicorn
   with two workers (``config/gunicorn.py``, as ``docker-compose.yml`` runs it), the
   production settings with the environment a deployment sets (README, "Production";
   ``bin/check-deploy``), ``wrk`` on the same machine, against a bare Django view
   answering a constant in the same gunicorn and the same run (``portal_urls``:
   it passes the same middleware). wrk speaks plain HTTP to gunicorn, so it sends
   ``X-Forwarded-Proto: https`` and the site's host, as the documented proxy does.
   Each page: requests per second, the ratio to the bare view, p99, errors (non-2xx
   answers and socket errors). The bare view runs right before each page, and each page
   is compared with that neighbour (the machine is shared; load drifts); of
   BENCH_PORTAL_ROUNDS such pairs, the one with the median ratio is reported.
2. Twenty access requests end to end: submit, verify and complete in this process
   (the services the portal and the admin call), a real Celery worker (two processes,
   the same settings) builds and attaches each answer; the clock stops when all
   twenty answers are attached.

Sizes: BENCH_PORTAL_CONTACTS (20,003: no page reads the register, and the requests
find their contact by an indexed address), BENCH_PORTAL_SECONDS (wrk duration per
run, 5), BENCH_PORTAL_ROUNDS (5), BENCH_PORTAL_PAGES (comma-separated paths, to
measure a few only), BENCH_PORTAL_SKIP (``pages`` or ``requests``).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from common import ROOT, prepare_database, report

CONTACTS = int(os.environ.get("BENCH_PORTAL_CONTACTS", "20003"))
SECONDS = int(os.environ.get("BENCH_PORTAL_SECONDS", "5"))
ROUNDS = int(os.environ.get("BENCH_PORTAL_ROUNDS", "5"))
SKIP = set(filter(None, os.environ.get("BENCH_PORTAL_SKIP", "").split(",")))
PORT = int(os.environ.get("BENCH_PORTAL_PORT", "8103"))
WRK = os.environ.get("WRK", "/usr/bin/wrk")
HOST = "personvern.example.no"
HERE = Path(__file__).resolve().parent
CONCURRENT = 20


def production_env(database_url: str, workdir: Path) -> dict[str, str]:
    """The environment of a production deployment (.env.example, docker-compose.yml, bin/check-deploy)."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal_settings",
        "PYTHONPATH": f"{HERE}:{ROOT}",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "HASH_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": HOST,
        "CSRF_TRUSTED_ORIGINS": f"https://{HOST}",
        "SITE_URL": f"https://{HOST}",
        "SECURE_SSL_REDIRECT": "true",
        "TRUSTED_PROXIES": "172.16.0.0/12",
        "DATABASE_URL": database_url,
        "REDIS_URL": os.environ.get("REDIS_URL", ""),
        "EMAIL_URL": "dummymail://",
        "STATIC_ROOT": str(workdir / "static"),
        "PRIVATE_MEDIA_ROOT": str(workdir / "private"),
        "LOG_LEVEL": "INFO",
        "WEB_CONCURRENCY": "2",
        "GUNICORN_BIND": f"127.0.0.1:{PORT}",
    }


def load_average() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


# --- 1. pages under load ---------------------------------------------------------------------


def page_paths() -> list[tuple[str, str]]:
    """(label, path) of every public GET page; token pages get a real link made here."""
    from consent.selectors import notice_current
    from consent.services import unsubscribe_token
    from subjects.models import Contact

    notice = notice_current()
    contact = Contact.objects.order_by("pk").first()
    pages = [
        ("bare Django view (constant)", "/bench/constant"),
        ("portal: start", "/portal/"),
        ("portal: request form", "/portal/request/"),
        ("portal: request sent", "/portal/request/sent/"),
        ("privacy notice in force", "/personvern/"),
    ]
    if notice is not None:
        pages.append(("privacy notice, one version", f"/personvern/versjon/{notice.version}/"))
    pages += [
        ("consent: sign-up form", "/consent/subscribe/"),
        ("consent: confirm link (button)", f"/consent/confirm/{secrets.token_urlsafe(32)}/"),
    ]
    if contact is not None:
        token = unsubscribe_token(contact=contact, purpose_code="marketing_events")
        pages.append(("consent: unsubscribe link (choice)", f"/consent/unsubscribe/{token}/"))
    pages.append(("front page", "/"))
    wanted = set(filter(None, os.environ.get("BENCH_PORTAL_PAGES", "").split(",")))
    return [p for p in pages if not wanted or p[1] in wanted or p[1] == "/bench/constant"]


def wrk(path: str, seconds: int) -> dict[str, float]:
    out = subprocess.run(
        [WRK, "-t2", "-c16", f"-d{seconds}s", "--latency", "-H", f"Host: {HOST}",
         "-H", "X-Forwarded-Proto: https", f"http://127.0.0.1:{PORT}{path}"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    p99_ms = float(p99.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    total = int(re.search(r"(\d+) requests in", out).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non_2xx.group(1)) if non_2xx else 0) + (sum(map(int, socket.groups())) if socket else 0)
    return {"rate": rate, "p99": p99_ms, "errors": errors, "total": total}


def start_gunicorn(env: dict[str, str], log: Path) -> subprocess.Popen:
    import httpx

    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi:application"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    for _ in range(150):
        try:
            httpx.get(f"http://127.0.0.1:{PORT}/healthz", timeout=1)
            return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    sys.exit(f"gunicorn did not start; see {log}")


def pages_under_load(env: dict[str, str], workdir: Path) -> list[tuple[str, str]]:
    import httpx

    pages = page_paths()
    log = workdir / "gunicorn.log"
    server = start_gunicorn(env, log)
    headers = {"Host": HOST, "X-Forwarded-Proto": "https"}
    try:
        for _label, path in pages:
            answer = httpx.get(f"http://127.0.0.1:{PORT}{path}", headers=headers)
            if answer.status_code != 200:
                sys.exit(f"{path} answered {answer.status_code}, not 200: nothing to measure")
            wrk(path, 2)  # warm both workers: imports, templates, translations, connections
        # The machine is shared: each page is measured right after the bare view, round by
        # round, and compared with that neighbour, so a change of load between pages does not
        # pass for a difference between them. The round with the median ratio is reported,
        # and the errors of every round.
        pairs: dict[str, list[tuple[dict[str, float], dict[str, float]]]] = {}
        before = load_average()
        for _ in range(ROUNDS):
            for _label, path in pages[1:]:
                pairs.setdefault(path, []).append((wrk("/bench/constant", SECONDS), wrk(path, SECONDS)))
        after = load_average()
    finally:
        server.terminate()
        server.wait(timeout=30)
    rows = [("machine", f"{os.cpu_count()} cores; {before} before, {after} after")]
    for label, path in pages[1:]:
        ranked = sorted(pairs[path], key=lambda pair: pair[1]["rate"] / pair[0]["rate"])
        baseline, figure = ranked[len(ranked) // 2]
        errors = sum(page["errors"] for _bare, page in ranked)
        total = sum(page["total"] for _bare, page in ranked)
        shown = re.sub(r"/([A-Za-z0-9_\-:.]{20,})/", "/<token>/", path)
        rows.append(
            (
                f"{label} ({shown})",
                f"{figure['rate']:,.0f} req/s, {figure['rate'] / baseline['rate']:.2f}x the bare view "
                f"({baseline['rate']:,.0f} req/s, p99 {baseline['p99']:.1f} ms), p99 {figure['p99']:.1f} ms; "
                f"{errors:.0f} errors of {total:,.0f} in {len(ranked)} rounds",
            )
        )
    rows.append(("aim", "every page at least 0.5x the bare view, p99 under 50 ms, 0 errors"))
    return rows


# --- 2. twenty access requests end to end ----------------------------------------------------


def start_worker(env: dict[str, str], queue: str) -> subprocess.Popen:
    from config.celery_app import app

    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue, "-c", "2",
         "--loglevel=WARNING", "-n", f"{queue}@%h", "--without-mingle", "--without-gossip"],
        cwd=ROOT, env={**env, "BENCH_PORTAL_QUEUE": queue},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if app.control.ping(destination=[f"{queue}@{os.uname().nodename}"], timeout=0.5):
            return process
    process.kill()
    sys.exit("the Celery worker did not start")


def twenty_requests(env: dict[str, str]) -> list[tuple[str, str]]:
    if not os.environ.get("REDIS_URL"):
        return [("twenty access requests", "skipped: set REDIS_URL for a real worker")]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from config.celery_app import app
    from core.audit import Actor
    from requests_dsar import services
    from requests_dsar.models import DataSubjectRequest, RequestToken
    from subjects.models import Contact

    queue = os.environ["BENCH_PORTAL_QUEUE"]
    app.conf.task_always_eager = False
    contacts = list(
        Contact.objects.order_by("pk").values_list("email", flat=True)[1000 : 1000 + 2 * CONCURRENT]
    )
    worker = start_worker(env, queue)
    staff = Actor.system("bench")
    subject = Actor.subject("127.0.0.1")

    steps = dict.fromkeys(("submit", "issue a link", "verify", "complete"), 0.0)

    def one(email: str) -> int:
        clock = time.perf_counter()
        submission = services.request_submit(type="access", email=email, actor=subject)
        steps["submit"] += (now := time.perf_counter()) - clock
        token = services.request_token_issue(request=submission.request, purpose=RequestToken.Purpose.VERIFY)
        steps["issue a link"] += (clock := time.perf_counter()) - now
        request = services.request_verify(token=token, actor=subject)
        steps["verify"] += (now := time.perf_counter()) - clock
        services.request_complete(request=request, actor=staff)
        steps["complete"] += time.perf_counter() - now
        return request.pk

    def wait(ids: list[int], started: float) -> float | None:
        while DataSubjectRequest.objects.filter(pk__in=ids, answer_ready_at__isnull=True).exists():
            if time.perf_counter() - started > 300:
                return None
            time.sleep(0.01)
        return time.perf_counter() - started

    try:
        # Warm this process and both worker processes (imports, templates, translations).
        warm = [one(email) for email in contacts[CONCURRENT : CONCURRENT + 4]]
        wait(warm, time.perf_counter())
        with CaptureQueriesContext(connection) as queries:
            one(contacts[CONCURRENT + 4])
        before = load_average()
        steps.update(dict.fromkeys(steps, 0.0))
        started = time.perf_counter()
        ids = [one(email) for email in contacts[:CONCURRENT]]
        queued = time.perf_counter() - started
        done = wait(ids, started)
        after = load_average()
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a loaded machine: the figures are taken; stop it and its pool
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)
    if done is None:
        return [("twenty access requests, end to end", "gave up after 300 s")]
    span = DataSubjectRequest.objects.filter(pk__in=ids).values_list("answer_ready_at", flat=True)
    return [
        ("machine", f"{os.cpu_count()} cores; {before} before, {after} after"),
        ("twenty access requests, end to end", f"{done:.2f} s until all twenty answers were attached"),
        ("of which submitting, verifying, completing", f"{queued:.2f} s in this process ("
         + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in steps.items()) + ")"),
        ("queries for one request here", f"{len(queries.captured_queries)} (submit, issue a link, verify, "
         "complete)"),
        ("after the last completion", f"{done - queued:.2f} s until the last answer was attached"),
        ("answers attached between", f"{(max(span) - min(span)).total_seconds():.2f} s from first to last"),
        ("aim", "under 1 s"),
        ("what ran", "submit+verify+complete here; a real worker (2 processes) built and attached each zip "
         "and sent the emails"),
    ]  # fmt: skip


def main() -> None:
    url = prepare_database(name="portal", contacts=CONTACTS)
    workdir = Path(tempfile.mkdtemp(prefix="bench-portal-"))
    env = production_env(url, workdir)
    env["BENCH_PORTAL_QUEUE"] = f"bench-portal-{uuid.uuid4().hex[:8]}"
    # The image collects static files at build time (Dockerfile); WhiteNoise serves them from the manifest.
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env,
                   check=True)  # fmt: skip
    os.environ.update({k: v for k, v in env.items() if k != "PYTHONPATH"})
    sys.path.insert(0, str(HERE))
    import django

    django.setup()
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)
    from subjects.models import Contact

    size = f"{Contact.objects.count():,} contacts (PostgreSQL copy of the seeded template)"
    try:
        if "pages" not in SKIP:
            report(f"portal pages under load: gunicorn -w 2, production settings, wrk -t2 -c16 -d{SECONDS}s; "
                   f"{size}; median of {ROUNDS} pairs", pages_under_load(env, workdir))  # fmt: skip
        if "requests" not in SKIP:
            report(f"twenty access requests end to end; {size}", twenty_requests(env))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
