"""Consent check (one and many) and consent events with an integration's standing."""

from __future__ import annotations

import pytest
from django.utils import timezone

from api.models import Scope
from consent import selectors
from consent.models import ConsentEvent, SuppressionEntry
from consent.selectors import Basis
from core.crypto import email_hash
from tests.api.conftest import assert_problem
from tests.consent.factories import grant
from tests.subjects.factories import ContactFactory

pytestmark = pytest.mark.django_db
CHECK = "/api/v1/consent/check"
EVENTS = "/api/v1/consent/events"
WORDING = "Ja, send meg nyheter om produkter og tjenester."


def event_body(email: str, action: str, **extra):
    return {
        "email": email, "purpose": "marketing_products", "action": action, "wording": WORDING,
        "channel": "api", "occurred_at": timezone.now().isoformat(), **extra,
    }  # fmt: skip


def test_single_check_says_allowed_and_the_basis(caller):
    contact = ContactFactory()
    grant(contact)
    response = caller.get(CHECK, {"purpose": "marketing_products", "email": contact.email.upper()})
    assert response.json() == {"allowed": True, "basis": Basis.CONSENT}


def test_single_check_takes_the_address_from_a_header_to_keep_it_out_of_urls(caller):
    contact = ContactFactory()
    grant(contact)
    response = caller.get(
        CHECK, {"purpose": "marketing_products"}, headers={"Personvern-Email": contact.email}
    )
    assert response.json()["allowed"] is True


def test_unknown_and_refused_addresses_answer_the_same(caller):
    known = ContactFactory()
    unknown = caller.get(CHECK, {"purpose": "marketing_products", "email": "ghost@example.no"}).json()
    refused = caller.get(CHECK, {"purpose": "marketing_products", "email": known.email}).json()
    assert unknown == refused == {"allowed": False, "basis": None}


def test_single_check_bad_input_is_a_problem(caller):
    assert_problem(caller.get(CHECK, {"purpose": "no_such_purpose", "email": "a@b.no"}), 400, "invalid-input")
    body = assert_problem(caller.get(CHECK, {"purpose": "marketing_products"}), 400)
    assert body["errors"][0]["field"] == "email"
    assert_problem(caller.get(CHECK, {"purpose": "x\x00", "email": "a@b.no"}), 400)


def test_bulk_check_answers_each_address_and_agrees_with_the_in_process_check(caller):
    cleared = ContactFactory.create_batch(3)
    for contact in cleared:
        grant(contact)
    other = ContactFactory()
    emails = [c.email for c in cleared] + [other.email, "ghost@example.no", "not an address"]
    response = caller.post(CHECK, {"purpose": "marketing_products", "emails": emails})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["email"] for r in results] == emails
    assert [r["allowed"] for r in results] == [True, True, True, False, False, False]
    expected = selectors.consent_allowed_emails(emails=emails, purpose_code="marketing_products")
    assert {r["email"] for r in results if r["allowed"]} == expected


def test_bulk_check_refuses_wrong_types_too_many_and_unknown_purposes(caller, settings):
    body = assert_problem(caller.post(CHECK, {"purpose": "marketing_products", "emails": [1, "a@b.no"]}), 400)
    assert body["errors"][0]["field"] == "emails.0"
    assert_problem(caller.post(CHECK, {"purpose": "marketing_products", "emails": "a@b.no"}), 400)
    assert_problem(caller.post(CHECK, {"purpose": 5, "emails": []}), 400)
    assert_problem(caller.post(CHECK, ["not", "an", "object"]), 400)
    assert_problem(caller.post(CHECK, {"purpose": "nope", "emails": ["a@b.no"]}), 400)
    too_many = {"purpose": "marketing_products", "emails": ["a@b.no"] * 100_001}
    assert_problem(caller.post(CHECK, too_many), 400)
    assert_problem(caller.post(CHECK, "{not json", content_type="application/json"), 400, "malformed-body")
    assert_problem(caller.post(CHECK, "x", content_type="text/plain"), 415, "unsupported-media-type")
    settings.API_MAX_BODY_BYTES = 100
    assert_problem(caller.post(CHECK, {"purpose": "marketing_products", "emails": ["a@b.no"] * 20}), 413)


def test_bulk_check_of_100000_addresses_is_answered(caller):
    contact = ContactFactory()
    grant(contact)
    emails = [f"nobody{i}@example.no" for i in range(99_999)] + [contact.email]
    response = caller.post(CHECK, {"purpose": "marketing_products", "emails": emails})
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == 100_000 and results[-1]["allowed"] and not results[0]["allowed"]


def test_an_integration_records_a_grant_with_its_evidence(make_caller):
    caller = make_caller([Scope.CONSENT_WRITE, Scope.CONSENT_CHECK])
    contact = ContactFactory()
    response = caller.post(EVENTS, event_body(contact.email, "grant", reference="crm-123"))
    assert response.status_code == 201, response.content
    assert response.json()["state"] == "granted"
    event = ConsentEvent.objects.get(pk=response.json()["event_id"])
    assert event.channel == "api" and event.actor_kind == "api_client"
    assert event.actor_id == str(caller.api_client.pk)
    assert "crm-123" in event.reference and event.wording.text == WORDING
    assert caller.get(CHECK, {"purpose": "marketing_products", "email": contact.email}).json()["allowed"]


def test_an_integration_withdraws_at_once_and_a_repeat_changes_nothing(caller):
    contact = ContactFactory()
    grant(contact)
    first = caller.post(EVENTS, event_body(contact.email, "withdraw"))
    assert first.status_code == 201 and first.json()["state"] == "withdrawn"
    assert not caller.get(CHECK, {"purpose": "marketing_products", "email": contact.email}).json()["allowed"]
    again = caller.post(EVENTS, event_body(contact.email, "withdraw"))
    assert again.status_code == 200 and again.json()["recorded"] is False


def test_an_integration_cannot_lift_the_persons_own_opt_out(caller):
    contact = ContactFactory()
    grant(contact)
    caller.post(EVENTS, event_body(contact.email, "withdraw"))  # the person unsubscribed via the CRM
    assert SuppressionEntry.objects.filter(
        email_hash=email_hash(contact.email, purpose=SuppressionEntry.SUPPRESSION_PURPOSE)
    ).exists()
    body = assert_problem(caller.post(EVENTS, event_body(contact.email, "grant")), 409, "conflict")
    assert contact.email not in str(body)
    assert not caller.get(CHECK, {"purpose": "marketing_products", "email": contact.email}).json()["allowed"]


def test_an_objection_blocks_marketing(caller):
    contact = ContactFactory()
    grant(contact)
    assert caller.post(EVENTS, event_body(contact.email, "object")).status_code == 201
    assert not caller.get(CHECK, {"purpose": "marketing_products", "email": contact.email}).json()["allowed"]


def test_consent_event_bad_input(caller):
    contact = ContactFactory()
    body = assert_problem(caller.post(EVENTS, event_body("not-an-address", "grant")), 400)
    assert body["errors"][0]["field"] == "email"
    assert_problem(caller.post(EVENTS, event_body(contact.email, "dance")), 400)
    assert_problem(caller.post(EVENTS, event_body(contact.email, "grant", purpose="nope")), 400)
    assert_problem(caller.post(EVENTS, event_body(contact.email, "grant", channel="staff")), 400)
    assert_problem(caller.post(EVENTS, event_body(contact.email, "grant", occurred_at="yesterday")), 400)
    assert_problem(caller.post(EVENTS, event_body(contact.email, "grant", wording="")), 400)
    assert_problem(caller.post(EVENTS, event_body(contact.email, "grant", notice_version="v99")), 400)
    assert_problem(caller.post(EVENTS, event_body("ghost@example.no", "grant")), 404, "not-found")


def test_consent_write_needs_its_scope(make_caller):
    caller = make_caller([Scope.CONSENT_CHECK])
    assert_problem(caller.post(EVENTS, event_body(ContactFactory().email, "grant")), 403)


def test_a_client_claiming_the_portal_still_acts_as_an_integration(caller):
    contact = ContactFactory()
    grant(contact)
    caller.post(EVENTS, event_body(contact.email, "withdraw"))
    claimed = event_body(contact.email, "grant", channel="portal", ip_address="192.0.2.9")
    assert_problem(caller.post(EVENTS, claimed), 409, "conflict")
    assert not caller.get(CHECK, {"purpose": "marketing_products", "email": contact.email}).json()["allowed"]
    event = ConsentEvent.objects.filter(contact=contact).latest("pk")
    assert event.channel == "api" and "via:api" in event.reference
