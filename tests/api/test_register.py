"""Contacts upsert, bulk imports, interactions and the suppression check."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from api.models import ImportJob, Scope
from consent.models import SuppressionEntry
from consent.services import suppression_add
from core.audit import Actor
from subjects.models import Contact, Interaction, Organisation
from tests.api.conftest import assert_problem
from tests.subjects.factories import ContactFactory

pytestmark = pytest.mark.django_db
CONTACTS = "/api/v1/contacts"
IMPORTS = "/api/v1/imports"
ORG = "977187761"  # a valid organisation number (check digit)


def contact_body(**extra):
    return {
        "email": "Kari.Nordmann@Firma.no", "name": "Kari Nordmann", "organisation_number": ORG,
        "organisation_name": "Firma AS", "source_type": "correspondence", "source_name": "CRM", **extra,
    }  # fmt: skip


def test_upsert_creates_then_is_idempotent(caller):
    first = caller.post(CONTACTS, contact_body())
    assert first.status_code == 201, first.content
    contact = Contact.objects.get(pk=first.json()["id"])
    assert contact.email == "kari.nordmann@firma.no" and contact.source_name == "CRM"
    assert contact.organisation.org_number == ORG
    again = caller.post(CONTACTS, contact_body())
    assert again.status_code == 200 and again.json() == {"id": contact.pk, "created": False, "updated": False}
    assert Contact.objects.count() == 1 and Organisation.objects.count() == 1


def test_upsert_fills_empty_fields_and_never_overwrites(caller):
    caller.post(CONTACTS, contact_body())
    response = caller.post(CONTACTS, contact_body(name="Someone Else", job_title="CTO"))
    assert response.json()["updated"] is True
    contact = Contact.objects.get()
    assert contact.name == "Kari Nordmann" and contact.job_title == "CTO"


def test_upsert_requires_provenance_and_valid_numbers(caller):
    body = assert_problem(caller.post(CONTACTS, contact_body(source_type="")), 400)
    assert {e["field"] for e in body["errors"]} == {"source_type"}
    without = contact_body()
    del without["source_name"]
    assert_problem(caller.post(CONTACTS, without), 400)
    body = assert_problem(caller.post(CONTACTS, contact_body(organisation_number="977187762")), 400)
    assert body["errors"][0]["field"] == "organisation_number"
    assert "977187762" not in json.dumps(body)
    body = assert_problem(caller.post(CONTACTS, contact_body(phone="12")), 400)
    assert body["errors"][0]["field"] == "phone"
    assert_problem(caller.post(CONTACTS, contact_body(email="nope")), 400)
    assert_problem(caller.post(CONTACTS, contact_body(name=["a"])), 400)
    assert not Contact.objects.exists()


def test_upsert_needs_the_scope(make_caller):
    assert_problem(make_caller([Scope.CONSENT_CHECK]).post(CONTACTS, contact_body()), 403)


def ndjson(rows):
    return "\n".join(json.dumps(r) for r in rows)


@pytest.fixture
def run_jobs(django_capture_on_commit_callbacks):
    """Run on_commit callbacks (the import task, eager in tests) as a real commit would."""

    def post(caller, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return caller.post(*args, **kwargs)

    return post


def test_an_ndjson_import_runs_as_a_job_with_progress(caller, run_jobs):
    rows = [
        {"name": f"Person {i}", "email": f"p{i}@firma.no", "organisation_number": ORG,
         "organisation_name": "Firma AS"}
        for i in range(5)
    ]  # fmt: skip
    response = run_jobs(
        caller,
        f"{IMPORTS}?source_type=marketing_partner&source_name=Partner&source_attests_consent=true",
        ndjson(rows), content_type="application/x-ndjson",
    )  # fmt: skip
    assert response.status_code == 202, response.content
    job = caller.get(response["Location"]).json()
    assert job["status"] == "succeeded" and job["created"] == 5 and job["rows_total"] == 5
    assert Contact.objects.filter(source_attests_consent=True, source_type="marketing_partner").count() == 5
    assert ImportJob.objects.get().payload == ""


def test_a_csv_import_with_a_bad_row_writes_nothing_and_names_row_and_field(caller, run_jobs):
    csv = "name,email,organisation_number\nA,a@firma.no,\nB,not-an-address,\nC,c@firma.no,123\n"
    response = run_jobs(
        caller, f"{IMPORTS}?source_type=correspondence&source_name=List", csv, content_type="text/csv"
    )
    job = caller.get(response["Location"]).json()
    assert job["status"] == "rejected"
    assert {(e["row"], e["field"]) for e in job["errors"]} == {(2, "email"), (3, "organisation_number")}
    assert "not-an-address" not in json.dumps(job) and "123" not in json.dumps(job["errors"])
    assert not Contact.objects.exists()


def test_an_import_with_a_row_that_is_not_an_object_is_rejected(caller, run_jobs):
    body = '{"name": "A", "email": "a@firma.no"}\n[1, 2]\n{"name": ["x"], "email": "b@firma.no"}'
    response = run_jobs(
        caller,
        f"{IMPORTS}?source_type=correspondence&source_name=List",
        body,
        content_type="application/x-ndjson",
    )
    job = caller.get(response["Location"]).json()
    assert job["status"] == "rejected" and {e["row"] for e in job["errors"]} == {2, 3}
    assert not Contact.objects.exists()


def test_import_bad_requests(caller, make_caller):
    url = f"{IMPORTS}?source_type=correspondence&source_name=List"
    assert_problem(caller.post(url, "a,b", content_type="application/pdf"), 415)
    assert_problem(caller.post(f"{IMPORTS}?source_name=List", "{}", content_type="application/x-ndjson"), 400)
    assert_problem(caller.post(url, "\n\n", content_type="application/x-ndjson"), 400)
    assert_problem(caller.post(url, b"\xff\xfe", content_type="text/csv"), 400)
    other = make_caller()
    job = caller.post(url, '{"name": "A", "email": "a@firma.no"}', content_type="application/x-ndjson")
    assert_problem(other.get(job["Location"]), 404)
    assert_problem(caller.get(f"{IMPORTS}/999999"), 404)


def test_an_interaction_moves_the_last_interaction(caller):
    contact = ContactFactory(last_interaction_at=timezone.now() - timedelta(days=400))
    when = timezone.now() - timedelta(hours=1)
    response = caller.post(
        "/api/v1/interactions", {"email": contact.email, "kind": "meeting", "occurred_at": when.isoformat()}
    )
    assert response.status_code == 201, response.content
    contact.refresh_from_db()
    assert abs(contact.last_interaction_at - when) < timedelta(seconds=1)
    assert Interaction.objects.filter(contact=contact, kind="meeting").exists()


def test_interaction_bad_input(caller):
    contact = ContactFactory()
    url = "/api/v1/interactions"
    future = (timezone.now() + timedelta(days=2)).isoformat()
    assert_problem(caller.post(url, {"email": contact.email, "kind": "meeting", "occurred_at": future}), 400)
    now = timezone.now().isoformat()
    assert_problem(caller.post(url, {"email": contact.email, "kind": "party", "occurred_at": now}), 400)
    assert_problem(caller.post(url, {"email": "ghost@example.no", "kind": "call", "occurred_at": now}), 404)
    assert_problem(caller.post(url, {"email": contact.email, "kind": "call", "occurred_at": 5}), 400)


def test_suppression_check_answers_by_position_and_names_no_one(caller):
    suppression_add(email="Gone@Firma.no", reason=SuppressionEntry.Reason.OPT_OUT, actor=Actor.system("t"))
    response = caller.post("/api/v1/suppression/check", {"emails": ["a@firma.no", "gone@firma.no", "x"]})
    assert response.json() == {"suppressed": [False, True, False]}
    assert_problem(caller.post("/api/v1/suppression/check", {"emails": [None]}), 400)
    assert_problem(caller.post("/api/v1/suppression/check", []), 400)


def test_an_import_with_no_body_is_a_problem_not_a_crash(caller):
    url = f"{IMPORTS}?source_type=correspondence&source_name=List"
    response = caller.http.post(
        url, headers={"Authorization": f"Api-Key {caller.key}"}, CONTENT_TYPE="text/csv"
    )
    assert_problem(response, 400)
