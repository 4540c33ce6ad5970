"""Data-subject requests filed through the API, and Idempotency-Key on every POST."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client

from api.models import IdempotentAnswer, Scope
from requests_dsar.models import DataSubjectRequest, RequestEvent
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
