"""Found broken 7: no personal data, token or query string in any log line.

The portal flow, consent sign-up, the staff workflow in the admin and the
retention sweep run with every logger at DEBUG through the production handler
(core.logging: the scrubbing filter and the JSON formatter); gunicorn's access
logger runs on the same requests. The seeded person's email, name and phone and
every link token emailed must appear in no line.
"""

from __future__ import annotations

import io
import json
import logging
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core import mail
from django.test import TestCase
from django.urls import reverse

from core.logging import ScrubFilter, json_formatter, mask_path, scrub
from core.logging_gunicorn import AccessLogger
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


def test_no_log_line_holds_personal_data_tokens_or_queries(client, staff_client, log_stream, settings):
    from requests_dsar.models import DataSubjectRequest
    from retention.tasks import retention_sweep_task

    ContactFactory(name=NAME, email=EMAIL, phone=PHONE)
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post("/portal/request/", {"type": "access", "email": EMAIL, "name": NAME})
    tokens = [t for m in mail.outbox for t in TOKEN_LINK.findall(m.body)]
    assert tokens
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.get(f"/portal/confirm/{tokens[0]}/")
        client.post(f"/portal/confirm/{tokens[0]}/")
    client.get(f"/portal/s/{tokens[0]}x/?email={EMAIL}")  # a forged link: Django logs 4xx paths
    client.get(f"/portal/download/{tokens[0]}/")
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post("/consent/subscribe/", {"name": NAME, "email": EMAIL, "topics": ["marketing_products"]})
    tokens = [t for m in mail.outbox for t in TOKEN_LINK.findall(m.body)]
    for token in tokens:
        client.get(f"/consent/confirm/{token}/")

    # Staff: searches and filters by email, name and phone; the request's page.
    for term in (EMAIL, NAME, PHONE):
        staff_client.get(reverse("admin:subjects_contact_changelist"), {"q": term})
    dsar = DataSubjectRequest.objects.get()
    staff_client.get(reverse("admin:requests_dsar_datasubjectrequest_change", args=[dsar.pk]))
    staff_client.get(f"/admin/requests_dsar/datasubjectrequest/?q={EMAIL}&e=1")

    retention_sweep_task()

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
    lowered = output.lower()
    for secret in (EMAIL, NAME, "Testesen", PHONE, "91234567", "203.0.113.9", *tokens):
        assert secret.lower() not in lowered, secret


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
