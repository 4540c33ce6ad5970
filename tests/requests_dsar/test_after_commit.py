"""Issue 8, item 10: after commit, the journal write, the answer email and the redaction are each
their own retried, idempotent step; none waits on another (Art. 17, 12(3))."""

from __future__ import annotations

import json
import smtplib
from pathlib import Path

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend

from core.audit import Actor
from core.crypto import email_hash
from requests_dsar import services
from requests_dsar.models import DataSubjectRequest, RequestEmail, RequestEvent
from requests_dsar.tasks import request_email_send
from rights.tasks import erasure_journal_file_write
from subjects.models import Contact
from tests.subjects.factories import ContactFactory

from .factories import RequestFactory

pytestmark = pytest.mark.django_db

KARI = "kari.nordmann@firma.no"
DPO = Actor.system("test.dpo")


@pytest.fixture(autouse=True)
def _eager_retries():
    """Run a task's retries in the test process, as a worker would after the countdown.

    With eager exceptions propagated (config/settings/test.py) Celery raises the
    first ``Retry`` instead of running the retry; here the retries really run.
    """
    from config.celery_app import app

    previous = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = previous


@pytest.fixture
def erasure(db):
    ContactFactory(email=KARI, name="Kari Nordmann")
    return RequestFactory(type=DataSubjectRequest.Type.ERASURE, email=KARI, name="Kari Nordmann")


@pytest.fixture
def mail_server(monkeypatch):
    """The locmem backend, made to fail as a mail server does: ``failures`` is a list of errors to raise."""
    state = {"failures": [], "calls": 0}
    send = EmailBackend.send_messages

    def send_messages(self, messages):
        state["calls"] += 1
        if state["failures"]:
            raise state["failures"].pop(0)
        return send(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", send_messages)
    return state


def complete(committed, request):
    with committed():
        services.request_complete(request=request, actor=DPO)
    request.refresh_from_db()
    return request


def test_a_journal_on_a_missing_volume_stops_neither_the_answer_nor_the_redaction(
    erasure, committed, settings, tmp_path: Path
):
    # The path .env.example suggests, on a volume that is not mounted.
    settings.ERASURE_JOURNAL_FILE = str(tmp_path / "not-mounted" / "erasure-journal.jsonl")

    request = complete(committed, erasure)

    assert not Contact.objects.filter(email=KARI).exists()
    assert [m.to for m in mail.outbox] == [[KARI]]
    assert "We have erased" in mail.outbox[0].body
    assert request.redacted_at is not None
    assert (request.email, request.name) == ("", "")
    # The copy of the answer is kept without the person once it was sent.
    sent = RequestEmail.objects.get(request=request)
    assert sent.status == RequestEmail.Status.SENT
    assert (sent.to, sent.body) == ("", "")
    # The journal was not written into the container instead of the volume.
    assert not (tmp_path / "not-mounted").exists()


def test_a_mail_server_that_stays_down_does_not_keep_the_person_in_the_request(
    erasure, committed, mail_server
):
    mail_server["failures"] = [smtplib.SMTPServerDisconnected("down")] * 20

    request = complete(committed, erasure)

    assert request.redacted_at is not None
    assert (request.email, request.name, request.answer) == ("", "", "")
    answer = RequestEmail.objects.get(request=request)
    assert answer.status == RequestEmail.Status.FAILED
    assert answer.failure == "SMTPServerDisconnected"
    assert (answer.to, answer.subject, answer.body, answer.html) == ("", "", "", "")
    # Retried with backoff before giving up; the failure is in the request's history.
    assert mail_server["calls"] == request_email_send.max_retries + 1
    assert RequestEvent.objects.filter(request=request, action=RequestEvent.Action.EMAIL_FAILED).exists()


def test_a_passing_mail_server_error_is_retried_and_the_answer_sent_once(erasure, committed, mail_server):
    mail_server["failures"] = [ConnectionRefusedError(), smtplib.SMTPServerDisconnected("busy")]

    request = complete(committed, erasure)

    assert [m.to for m in mail.outbox] == [[KARI]]
    assert mail_server["calls"] == 3
    assert RequestEmail.objects.get(request=request).status == RequestEmail.Status.SENT
    assert request.redacted_at is not None
    assert not RequestEvent.objects.filter(request=request, action=RequestEvent.Action.EMAIL_FAILED).exists()


def test_a_refused_address_is_not_retried_and_staff_see_the_failure(committed, mail_server, staff_client):
    request = RequestFactory(type=DataSubjectRequest.Type.OTHER, email="borte@firma.no")
    mail_server["failures"] = [smtplib.SMTPRecipientsRefused({"borte@firma.no": (550, b"no such user")})]

    with committed():
        services.request_complete(request=request, actor=DPO, answer="Here is our answer.")

    assert mail_server["calls"] == 1
    email = RequestEmail.objects.get(request=request)
    assert (email.status, email.failure) == (RequestEmail.Status.FAILED, "SMTPRecipientsRefused")
    # Not an erasure: the address stays, so staff can write another way.
    assert email.to == "borte@firma.no"
    page = staff_client.get(
        f"/admin/requests_dsar/datasubjectrequest/{request.pk}/change/", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "Could not be delivered" in page.content.decode()
    listed = staff_client.get("/admin/requests_dsar/datasubjectrequest/?email=failed")
    assert request.reference in listed.content.decode()


def test_sending_a_queued_email_twice_sends_it_once(committed, mail_server):
    request = RequestFactory(type=DataSubjectRequest.Type.OTHER)
    with committed():
        services.request_complete(request=request, actor=DPO, answer="Svar.")
    email = RequestEmail.objects.get(request=request)

    request_email_send.delay(email.pk)
    request_email_send.delay(email.pk)

    assert len(mail.outbox) == 1
    assert mail_server["calls"] == 1


def test_an_email_that_rolls_back_with_its_step_is_never_sent(mail_server):
    from django.db import transaction

    request = RequestFactory(type=DataSubjectRequest.Type.OTHER)
    with transaction.atomic():
        services.request_complete(request=request, actor=DPO, answer="Svar.")
        transaction.set_rollback(True)

    assert mail.outbox == []
    assert not RequestEmail.objects.filter(request=request).exists()


def test_the_sent_copy_keeps_no_link(committed):
    request = RequestFactory(type=DataSubjectRequest.Type.OTHER)
    with committed():
        services.request_complete(request=request, actor=DPO, answer="Svar.")

    assert "/portal/s/" in mail.outbox[0].body
    copy = RequestEmail.objects.get(request=request)
    assert "/portal/s/" not in copy.body
    assert "@@" not in mail.outbox[0].body and "@@" not in mail.outbox[0].alternatives[0][0]
    assert "[link removed]" in copy.body


def test_the_journal_file_write_is_retried_and_writes_each_entry_once(settings, tmp_path: Path):
    settings.ERASURE_JOURNAL_FILE = str(tmp_path / "journal.jsonl")
    entries = [
        {"email_hash": email_hash(KARI, purpose="erasure_journal"), "reference": "DSR-1", "erased_at": "x"}
    ]

    erasure_journal_file_write.delay(entries)
    erasure_journal_file_write.delay(entries)

    lines = [json.loads(line) for line in (tmp_path / "journal.jsonl").read_text().splitlines()]
    assert [(e["email_hash"], e["reference"]) for e in lines] == [(entries[0]["email_hash"], "DSR-1")]


def test_a_journal_write_that_keeps_failing_is_logged_for_the_operator(settings, tmp_path: Path, caplog):
    settings.ERASURE_JOURNAL_FILE = str(tmp_path / "missing" / "journal.jsonl")

    written = erasure_journal_file_write.delay([{"email_hash": "h", "reference": "DSR-2", "erased_at": "x"}])

    assert written.get() == 0
    assert any(r.levelname == "ERROR" and "erasure_journal_export" in r.getMessage() for r in caplog.records)
