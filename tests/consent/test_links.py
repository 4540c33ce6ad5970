"""Double opt-in and one-click unsubscribe: valid, forged, expired and repeated links."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from consent import selectors, services
from consent.models import ConsentEvent, ConsentState
from subjects.models import Contact
from tests.consent.factories import grant
from tests.subjects.factories import ContactFactory

pytestmark = pytest.mark.django_db


def _sign_up(client, email="kari.nordmann@firma.no", topics=("marketing_products",)):
    # The confirmation email leaves after commit.
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(
            reverse("consent:subscribe"),
            {"name": "Kari Nordmann", "email": email, "topics": list(topics)},
            HTTP_USER_AGENT="Mozilla/5.0 Test",
        )


def _confirm_path() -> str:
    return re.search(r"https?://[^/\s]+(/consent/confirm/[^\s/]+/)", mail.outbox[-1].body).group(1)


def test_a_sign_up_without_a_topic_shows_a_message_and_writes_nothing(client):
    response = client.post(reverse("consent:subscribe"), {"name": "Kari", "email": "kari@firma.no"})
    assert (response.status_code == 200 and "topic" in response.content.decode().lower()) or "emne" in (
        response.content.decode()
    )
    assert not ConsentEvent.objects.exists() and not Contact.objects.exists()


# --- One-click unsubscribe ----------------------------------------------------------


def _subscribed():
    contact = ContactFactory()
    grant(contact)
    return contact


def test_every_marketing_email_can_carry_the_rfc_8058_header_pair():
    contact = _subscribed()
    headers = services.unsubscribe_headers(contact=contact, purpose_code="marketing_products")
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = headers["List-Unsubscribe"].strip("<>")
    assert url.startswith("http") and "/consent/unsubscribe/" in url
    assert contact.email not in url and contact.email.split("@")[0] not in url


def test_a_valid_link_unsubscribes_without_login(client):
    contact = _subscribed()
    token = services.unsubscribe_token(contact=contact, purpose_code="marketing_products")
    path = reverse("consent:unsubscribe", args=[token])
    assert client.get(path).status_code == 200
    assert selectors.consent_allowed(contact=contact, purpose_code="marketing_products")
    response = client.post(path)
    assert response.status_code == 200
    assert not selectors.consent_allowed(contact=contact, purpose_code="marketing_products")
    event = ConsentEvent.objects.filter(contact=contact).order_by("id").last()
    assert (event.action, event.channel) == ("withdrawn", "email_link")


def test_the_rfc_8058_one_click_post_unsubscribes(client):
    contact = _subscribed()
    token = services.unsubscribe_token(contact=contact, purpose_code="marketing_products")
    response = client.post(
        reverse("consent:unsubscribe", args=[token]),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert ConsentState.objects.get(contact=contact).state == "withdrawn"


def test_following_the_link_twice_is_harmless(client):
    contact = _subscribed()
    token = services.unsubscribe_token(contact=contact, purpose_code="marketing_products")
    path = reverse("consent:unsubscribe", args=[token])
    client.post(path)
    count = ConsentEvent.objects.count()
    response = client.post(path)
    assert response.status_code == 200
    assert ConsentEvent.objects.count() == count


def test_a_tampered_link_shows_a_clear_page_and_changes_nothing(client):
    contact = _subscribed()
    token = services.unsubscribe_token(contact=contact, purpose_code="marketing_products")
    other = ContactFactory()
    forged = services.unsubscribe_token(contact=other, purpose_code="marketing_products")
    tampered = forged.split(":")[0] + ":" + ":".join(token.split(":")[1:])
    for bad in (tampered, token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "garbage"):
        response = client.post(reverse("consent:unsubscribe", args=[bad]))
        assert response.status_code == 400
        assert "not valid" in response.content.decode() or "ikke gyldig" in response.content.decode()
    assert ConsentEvent.objects.filter(action="withdrawn").count() == 0
    assert selectors.consent_allowed(contact=contact, purpose_code="marketing_products")


def test_an_expired_link_shows_a_clear_page_and_changes_nothing(client):
    contact = _subscribed()
    token = services.unsubscribe_token(contact=contact, purpose_code="marketing_products")
    with time_machine.travel(timezone.now() + timedelta(days=366)):
        response = client.post(reverse("consent:unsubscribe", args=[token]))
    assert response.status_code == 410
    assert ConsentState.objects.get(contact=contact).state == "granted"


def test_the_link_can_stop_all_marketing_as_an_objection(client):
    contact = _subscribed()
    grant(contact, "marketing_events")
    token = services.unsubscribe_token(contact=contact, purpose_code="marketing_products")
    client.post(reverse("consent:unsubscribe", args=[token]), {"everything": "1"})
    assert not selectors.consent_allowed(contact=contact, purpose_code="marketing_events")
    assert ConsentState.objects.get(contact=contact, purpose__code="direct_marketing").state == "objected"


# --- Receipts ---------------------------------------------------------------------


def test_a_receipt_names_who_what_which_notice_when_and_how_to_withdraw():
    contact = ContactFactory(language="en")
    event = grant(contact, "partner_marketing")
    receipt = services.consent_receipt(event=event)
    assert receipt["version"] == "KI-CR-v1.1.0"
    assert receipt["jurisdiction"] == "NO"
    assert receipt["consentReceiptID"] == str(event.receipt_id)
    assert receipt["consentTimestamp"] == int(event.occurred_at.timestamp())
    assert receipt["collectionMethod"] == "portal"
    assert receipt["piiPrincipalId"] == contact.email
    assert receipt["piiControllers"][0]["piiController"] == "IntegrasjonsPartner BITS AS"
    assert receipt["policyUrl"].endswith("/personvern/versjon/2018-06-01/")
    service = receipt["services"][0]
    assert service["service"] == "Partners' campaigns"
    purpose = service["purposes"][0]
    assert purpose["purposeCode"] == "partner_marketing" and purpose["thirdPartyDisclosure"] is True
    assert purpose["consentType"] == "EXPLICIT" and purpose["piiCategory"] == ["contact"]
    assert receipt["notice"]["version"] == "2018-06-01"
    assert receipt["wording"]["sha256"] == event.wording.sha256
    assert receipt["consentStatus"] == "granted"
    assert "/consent/unsubscribe/" in receipt["withdrawal"]["url"]
