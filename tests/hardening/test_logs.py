"""Found broken 7: no personal data, token or query string in any log line.

The portal flow, consent sign-up, the staff workflow in the admin and the
retention sweep run with every logger at DEBUG through the production handler
(core.logging: the scrubbing filter and the JSON formatter); gunicorn's access
logger runs on the same requests. Their tasks (the emails, the access answer,
the sweep) run in the real Celery worker, configured as in production, whose
own output is read from its log file. The seeded person's email, name and phone
and every link token emailed must appear in no line of either.
"""

from __future__ import annotations

import io
import json
import logging
import re
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.test import Client
from django.urls import reverse

from core.logging import ScrubFilter, json_formatter, mask_path, scrub
from core.logging_gunicorn import AccessLogger
from tests.conftest import wait_for
from tests.subjects.factories import ContactFactory

pytestmark = pytest.mark.django_db

EMAIL = "ingrid.testesen@firma.no"
NAME = "Ingrid Testesen"
PHONE = "+4791234567"
TOKEN_LINK = re.compile(
    r"/(?:portal/(?:confirm|s|download)|consent/(?:confirm|unsubscribe))/([A-Za-z0-9_\-]+)/"
)


@pytest.fixture
def log_stream():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter())
    handler.addFilter(ScrubFilter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(old_level)


def _gunicorn_access(environ: dict[str, str]) -> None:
    from gunicorn.config import Config

    cfg = Config()
    cfg.set("accesslog", "-")
    cfg.set("access_log_format", '%(h)s "%(r)s" %(U)s %(q)s %(s)s "%(f)s" %({x-request-id}o)s')
    logger = AccessLogger(cfg)
    # Into the handler under test instead of gunicorn's own stdout handler.
    logger.access_log.handlers = []
    logger.access_log.propagate = True
    response = SimpleNamespace(status="404 Not Found", sent=10, headers=[("X-Request-ID", "abc12345")])
    request = SimpleNamespace(headers=[("REFERER", environ.get("HTTP_REFERER", ""))])
    logger.access(response, request, environ, timedelta(milliseconds=5))


def _worker_output(worker: dict[str, object], offset: int) -> str:
    """What the real worker process wrote to its stderr and stdout since ``offset``.

    tests/conftest.py starts it with both going to ``worker.log`` in its mail folder.
    """
    with open(Path(worker["mail_dir"]) / "worker.log", encoding="utf-8", errors="replace") as f:  # type: ignore[arg-type]
        f.seek(offset)
        return f.read()


@pytest.mark.redis
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_no_log_line_holds_personal_data_tokens_or_queries(celery_worker, client, staff_user, log_stream):
    """The web side's lines (captured here) and the real worker's own output (its log file)."""
    from requests_dsar.models import DataSubjectRequest
    from retention.models import SweepRun
    from retention.tasks import retention_sweep_task
    from tests.requests_dsar.test_worker import worker_mail

    worker_log_start = (Path(celery_worker["mail_dir"]) / "worker.log").stat().st_size
    mail_dir = celery_worker["mail_dir"]

    def tokens_mailed() -> list[str]:
        return [t for body in worker_mail(mail_dir, EMAIL) for t in TOKEN_LINK.findall(body)]

    ContactFactory(name=NAME, email=EMAIL, phone=PHONE)
    client.post("/portal/request/", {"type": "access", "email": EMAIL, "name": NAME})
    tokens = wait_for(tokens_mailed)  # the worker sent the confirmation link
    client.get(f"/portal/confirm/{tokens[0]}/")
    client.post(f"/portal/confirm/{tokens[0]}/")
    tokens = wait_for(lambda: (found := tokens_mailed()) and len(found) > len(tokens) and found)
    client.get(f"/portal/s/{tokens[0]}x/?email={EMAIL}")  # a forged link: Django logs 4xx paths
    client.get(f"/portal/download/{tokens[0]}/")
    client.post("/consent/subscribe/", {"name": NAME, "email": EMAIL, "topics": ["marketing_products"]})
    tokens = wait_for(lambda: (found := tokens_mailed()) and len(found) > len(tokens) and found)
    for token in tokens:
        client.get(f"/consent/confirm/{token}/")

    # Staff: searches and filters by email, name and phone; the request's page; the workflow's
    # last step (the worker builds the access answer and mails the download link).
    staff_client = Client()
    staff_client.force_login(staff_user)
    for term in (EMAIL, NAME, PHONE):
        staff_client.get(reverse("admin:subjects_contact_changelist"), {"q": term})
    dsar = DataSubjectRequest.objects.get()
    staff_client.get(reverse("admin:requests_dsar_datasubjectrequest_change", args=[dsar.pk]))
    staff_client.get(f"/admin/requests_dsar/datasubjectrequest/?q={EMAIL}&e=1")
    staff_client.post(f"/admin/requests_dsar/datasubjectrequest/{dsar.pk}/act/complete/", {"answer": ""})
    wait_for(lambda: any("/portal/download/" in body for body in worker_mail(mail_dir, EMAIL)), timeout=40)
    tokens = tokens_mailed()

    sweep = retention_sweep_task.delay()
    # Until the worker has said the task is done: its last line is written, and the test's
    # teardown does not empty the tables under a sweep still finishing.
    wait_for(lambda: f"{sweep.id}] succeeded" in _worker_output(celery_worker, worker_log_start), timeout=60)
    assert SweepRun.objects.exclude(finished_at=None).exists()

    for token in tokens[:2]:
        _gunicorn_access(
            {
                "REQUEST_METHOD": "GET", "RAW_URI": f"/portal/s/{token}/?q={EMAIL}",
                "PATH_INFO": f"/portal/s/{token}/", "QUERY_STRING": f"q={EMAIL}",
                "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "203.0.113.9",
                "HTTP_REFERER": f"https://personvern.example.no/admin/?q={NAME}",
            }
        )  # fmt: skip

    output = log_stream.getvalue()
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    assert any("request" in line["event"] and line.get("request_id") for line in lines)
    assert any(line["logger"] == "gunicorn.access" for line in lines)
    # The worker's own output: it ran the mail, the access answer and the sweep, and said so.
    worker_output = _worker_output(celery_worker, worker_log_start)
    for task in ("retention.tasks.retention_sweep", "requests_dsar.tasks", "consent.tasks"):
        assert task in worker_output, task
    for where, text in (("application and access log", output), ("worker", worker_output)):
        lowered = text.lower()
        for secret in (EMAIL, NAME, "Testesen", PHONE, "91234567", "203.0.113.9", *tokens):
            assert secret.lower() not in lowered, (where, secret)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/portal/s/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abcd/", "/portal/s/[token]/"),
        ("/admin/subjects/contact/?q=kari%40firma.no", "/admin/subjects/contact/?[query]"),
        (
            "Not Found: /consent/unsubscribe/AbCdEfGhIjKlMnOpQrStUv/",
            "Not Found: /consent/unsubscribe/[token]/",
        ),
        ("sent to kari.nordmann@firma.no", "sent to [email]"),
        ("call +47 912 34 567", "call [phone]"),
        ("contact 42 of run 7 in 2026", "contact 42 of run 7 in 2026"),
        ("/admin/subjects/contact/1234/change/", "/admin/subjects/contact/1234/change/"),
    ],
)
def test_scrubbing_masks_secrets_and_keeps_ids(text, expected):
    assert scrub(text) == expected


def test_a_path_for_the_access_log_loses_its_query_and_tokens():
    assert mask_path("/portal/download/AbCdEfGhIjKlMnOpQrStUvWxYz/?x=1") == "/portal/download/[token]/"


def test_every_response_carries_a_request_id(client):
    first = client.get("/")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert client.get("/")["X-Request-ID"] != first
    assert client.get("/", HTTP_X_REQUEST_ID="proxy-1234-abcd")["X-Request-ID"] == "proxy-1234-abcd"
    assert client.get("/", HTTP_X_REQUEST_ID="<script>")["X-Request-ID"] != "<script>"


def test_the_celery_task_logger_keeps_the_scrubbing_handler():
    """Celery attaches its own unscrubbed handler to ``celery.task`` when that logger has none."""
    import logging.config

    from config.celery_app import app
    from core.logging import logging_config

    config = logging_config(json=True, level="INFO")
    touched = [logging.getLogger(name) for name in (None, *config["loggers"])]
    saved = [(lg.handlers[:], lg.level, lg.propagate, lg.disabled) for lg in touched]
    try:
        logging.config.dictConfig(config)
        app.log.setup_task_loggers(loglevel="INFO")
        logger = logging.getLogger("celery.task")
        assert logger.handlers
        assert all(any(isinstance(f, ScrubFilter) for f in h.filters) for h in logger.handlers)
    finally:
        for lg, (handlers, level, propagate, disabled) in zip(touched, saved, strict=True):
            lg.handlers, lg.level, lg.propagate, lg.disabled = handlers, level, propagate, disabled
