"""The consent preferences page after verification, through the consent ledger."""

from __future__ import annotations

import pytest

from consent.models import ConsentState
from requests_dsar.models import DataSubjectRequest
from tests.consent.factories import grant
from tests.subjects.factories import ContactFactory

from .conftest import last_link
from .test_workflow import KARI, act, submit_and_confirm

pytestmark = pytest.mark.django_db


@pytest.fixture
def kari(db):
    return ContactFactory(email=KARI, name="Kari Nordmann", language="en")


def state(contact, code):
    row = ConsentState.objects.filter(contact=contact, purpose__code=code).first()
    return row.state if row else None


def test_the_page_needs_a_followed_link(client):
    response = client.get("/portal/preferences/")
    assert response.status_code == 403


def test_the_person_sees_and_changes_their_consents(client, committed, kari):
    grant(kari, "marketing_products")
    submit_and_confirm(client, committed, "other", details="Preferences")
    page = client.get("/portal/preferences/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert 'value="marketing_products"' in page.content.decode()
    assert 'value="marketing_products" id="topic-marketing_products" checked' in page.content.decode()
    # Withdrawing is one untick and one button (Art. 7(3)).
    response = client.post("/portal/preferences/", {}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert state(kari, "marketing_products") == ConsentState.State.WITHDRAWN
    client.post("/portal/preferences/", {"granted": ["marketing_products"]})
    assert state(kari, "marketing_products") == ConsentState.State.GRANTED


def test_a_status_link_opens_the_preferences_of_that_address_only(client, committed, kari):
    other = ContactFactory(email="ola@firma.no")
    grant(other, "marketing_products")
    submit_and_confirm(client, committed, "other", details="x")
    client.post("/portal/preferences/", {})
    assert state(other, "marketing_products") == ConsentState.State.GRANTED


def test_a_withdrawal_request_withdraws_every_consent_in_the_ledger(client, staff_client, committed, kari):
    grant(kari, "marketing_products")
    request = submit_and_confirm(client, committed, "withdrawal")
    act(staff_client, committed, request, "complete")
    request.refresh_from_db()
    assert request.status == DataSubjectRequest.Status.COMPLETED
    assert state(kari, "marketing_products") == ConsentState.State.WITHDRAWN
    assert last_link("s")
