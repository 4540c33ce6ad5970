"""Data-subject requests filed through the API, and Idempotency-Key on every POST."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone

from api import services
from api.models import IdempotentAnswer, Scope
from core.models import AuditEvent
from requests_dsar.models import DataSubjectRequest, RequestEmail, RequestEvent
from subjects.models import Contact
from tests.api.conftest import Caller, assert_problem
from tests.conftest import needs_postgres

pytestmark = pytest.mark.django_db
REQUESTS = "/api/v1/requests"


def request_body(**extra):
    return {
        "type": "erasure", "email": "kari@firma.no", "name": "Kari", "channel": "phone",
        "identity_check": "Called back on the number in the CRM", **extra,
    }  # fmt: skip


def test_a_filed_request_enters_the_workflow_with_its_deadline(caller):
    response = caller.post(REQUESTS, request_body())
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "verified" and body["due_date"]
    row = DataSubjectRequest.objects.get(reference=body["reference"])
    assert row.received_at is not None
    assert row.events.filter(action=RequestEvent.Action.VERIFIED_MANUALLY, actor_kind="api_client").exists()
    assert caller.get(response["Location"]).json() == body


def test_a_request_checked_elsewhere_gets_a_receipt_and_no_link_to_confirm(
    caller, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = caller.post(REQUESTS, request_body())
    assert response.status_code == 201, response.content
    row = DataSubjectRequest.objects.get(reference=response.json()["reference"])
    assert row.status == DataSubjectRequest.Status.VERIFIED and row.due_date is not None
    event = row.events.get(action=RequestEvent.Action.VERIFIED_MANUALLY)
    assert event.note == "phone: Called back on the number in the CRM"
    assert list(RequestEmail.objects.filter(request=row).values_list("kind", flat=True)) == ["registered"]
    [message] = mail.outbox
    assert message.to == ["kari@firma.no"]
    assert message.subject == "Vi har registrert henvendelsen din"
    assert "trenger ikke å bekrefte" in message.body and row.reference in message.body
    # A link to follow the request, none to confirm it.
    assert "/portal/s/" in message.body and "/portal/confirm/" not in message.body


def test_the_receipt_is_in_the_language_of_the_request(caller, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        caller.post(REQUESTS, request_body(language="en"))
    [message] = mail.outbox
    assert message.subject == "We have registered your request"
    assert "you need not confirm anything" in message.body


def test_a_request_nobody_checked_waits_for_the_person_to_confirm_it(
    caller, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = caller.post(REQUESTS, request_body(identity_check=" None "))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "received" and body["received_at"] is None and body["due_date"] is None
    row = DataSubjectRequest.objects.get(reference=body["reference"])
    assert not row.events.filter(action=RequestEvent.Action.VERIFIED_MANUALLY).exists()
    [message] = mail.outbox
    assert "/portal/confirm/" in message.body


def test_a_checked_filing_of_a_request_waiting_for_its_link_verifies_it(
    caller, django_capture_on_commit_callbacks
):
    """The person used the portal and then phoned: the call-back verifies the request they have."""
    waiting = caller.post(REQUESTS, request_body(identity_check="none")).json()
    with django_capture_on_commit_callbacks(execute=True):
        again = caller.post(REQUESTS, request_body()).json()
    assert again["reference"] == waiting["reference"] and again["status"] == "verified"
    assert DataSubjectRequest.objects.count() == 1
    assert [m.subject for m in mail.outbox] == ["Vi har registrert henvendelsen din"]


def test_a_client_reads_only_the_requests_it_filed(make_caller):
    filer = make_caller([Scope.REQUESTS_WRITE, Scope.REQUESTS_READ])
    other = make_caller([Scope.REQUESTS_READ])
    reference = filer.post(REQUESTS, request_body()).json()["reference"]
    assert filer.get(f"{REQUESTS}/{reference}").status_code == 200
    assert_problem(other.get(f"{REQUESTS}/{reference}"), 404)
    assert_problem(make_caller([Scope.REQUESTS_WRITE]).get(f"{REQUESTS}/{reference}"), 403)


def test_request_bad_input(caller):
    assert_problem(caller.post(REQUESTS, request_body(type="magic")), 400)
    assert_problem(caller.post(REQUESTS, request_body(email="nope")), 400)
    assert_problem(caller.post(REQUESTS, request_body(identity_check="")), 400)
    assert_problem(caller.post(REQUESTS, request_body(channel="pigeon")), 400)
    assert_problem(caller.post(REQUESTS, request_body(details="x" * 6000)), 400)
    assert not DataSubjectRequest.objects.exists()


def test_a_repeat_with_the_same_idempotency_key_returns_the_first_answer_and_writes_nothing(caller):
    headers = {"Idempotency-Key": "contact-1"}
    body = {"email": "ola@firma.no", "name": "Ola", "source_type": "phone", "source_name": "Sentralbord"}
    first = caller.post("/api/v1/contacts", body, headers=headers)
    again = caller.post("/api/v1/contacts", body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Contact.objects.count() == 1


def test_a_repeated_request_filing_is_one_request(caller):
    headers = {"Idempotency-Key": "ticket-77"}
    first = caller.post(REQUESTS, request_body(), headers=headers)
    again = caller.post(REQUESTS, request_body(), headers=headers)
    assert first.json() == again.json() and again.status_code == 201
    assert DataSubjectRequest.objects.count() == 1
    assert RequestEvent.objects.filter(action=RequestEvent.Action.VERIFIED_MANUALLY).count() == 1


def test_the_same_key_with_another_body_is_refused(caller):
    headers = {"Idempotency-Key": "k"}
    caller.post(REQUESTS, request_body(), headers=headers)
    assert_problem(
        caller.post(REQUESTS, request_body(type="access"), headers=headers), 422, "idempotency-key-reused"
    )


def test_keys_are_per_client_and_an_error_answer_is_kept_too(make_caller):
    one, two = make_caller(), make_caller()
    headers = {"Idempotency-Key": "same"}
    assert one.post(REQUESTS, request_body(type="magic"), headers=headers).status_code == 400
    assert one.post(REQUESTS, request_body(type="magic"), headers=headers).status_code == 400
    assert two.post(REQUESTS, request_body(), headers=headers).status_code == 201
    assert IdempotentAnswer.objects.count() == 2


def test_stored_answers_are_forgotten_after_a_day_through_the_removal_engine(caller):
    headers = {"Idempotency-Key": "campaign-1"}
    body = {"purpose": "marketing_events", "emails": ["kari@firma.no"]}
    assert caller.post("/api/v1/consent/check", body, headers=headers).status_code == 200
    stored = IdempotentAnswer.objects.get()
    assert "kari@firma.no" in json.dumps(stored.body)  # why the engine removes it: it names people
    IdempotentAnswer.objects.filter(pk=stored.pk).update(
        created_at=timezone.now() - timedelta(days=1, minutes=1)
    )
    assert (
        caller.post("/api/v1/consent/check", body, headers={"Idempotency-Key": "campaign-2"}).status_code
        == 200
    )

    assert services.idempotency_forget() == 1
    assert list(IdempotentAnswer.objects.values_list("key", flat=True)) == ["campaign-2"]
    event = AuditEvent.objects.get(action="api.idempotency_forget")
    assert event.target_type == "api.idempotentanswer" and "body" in event.changed_fields
    # The forgotten key is free again: the same call runs anew.
    again = caller.post("/api/v1/consent/check", body, headers=headers)
    assert again.status_code == 200 and "Idempotent-Replayed" not in again


def test_an_overlong_idempotency_key_is_refused(caller):
    assert_problem(caller.post(REQUESTS, request_body(), headers={"Idempotency-Key": "x" * 300}), 400)


def test_a_replayed_error_is_still_a_problem_document(caller):
    headers = {"Idempotency-Key": "bad-one"}
    assert_problem(caller.post(REQUESTS, request_body(type="magic"), headers=headers), 400)
    assert_problem(caller.post(REQUESTS, request_body(type="magic"), headers=headers), 400)


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_posts_with_one_key_write_once(make_caller):
    caller = make_caller()
    body = {"email": "ola@firma.no", "name": "Ola", "source_type": "phone", "source_name": "Sentralbord"}
    barrier = threading.Barrier(2)
    answers = []

    def post():
        barrier.wait()
        try:
            own = Caller(caller.api_client, caller.key, Client())  # one HTTP client per thread
            answers.append(own.post("/api/v1/contacts", body, headers={"Idempotency-Key": "race"}))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a.status_code for a in answers) == [201, 201]
    assert answers[0].json() == answers[1].json()
    assert Contact.objects.count() == 1
