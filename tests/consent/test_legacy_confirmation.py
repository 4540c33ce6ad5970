"""Confirmation links emailed before sign-ups were kept apart (old ``ConsentConfirmation`` tokens).

Then the web form wrote the contact and an unconfirmed grant at once, and the emailed link
confirmed it. Such a link, followed now, confirms what still waits, or shows a page in the
person's language saying the link is no longer valid and how to sign up again; never a 500.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from consent import selectors, services
from consent.models import ConsentConfirmation, ConsentEvent, ConsentState, ConsentWording, Purpose
from consent.selectors import notice_current
from core.crypto import new_token, token_digest
from tests.consent.factories import PERSON, WORDING
from tests.subjects.factories import ContactFactory

pytestmark = pytest.mark.django_db


def _old_sign_up(*, language: str = "nb", expires_in: timedelta = timedelta(days=5)):
    """What the web form wrote before the change: a contact, a web-form grant, a confirmation."""
    contact = ContactFactory(language=language)
    purpose = Purpose.objects.get(code="marketing_products")
    wording = ConsentWording.objects.filter(text=WORDING).first()
    if wording is None:
        wording = ConsentWording(text=WORDING)
        wording.save()
    # Written as the old code wrote it: no authority, so the channel (web form) says unconfirmed.
    ConsentEvent(
        contact=contact, purpose=purpose, action="granted", channel="web_form", notice=notice_current(),
        wording=wording, ip_address="198.51.100.4", user_agent="Mozilla/5.0", reference="consent:subscribe",
        actor_kind="subject",
    ).save()  # fmt: skip
    token = new_token()
    ConsentConfirmation.objects.create(
        contact=contact,
        purpose=purpose,
        token_digest=token_digest(token),
        requested_at=timezone.now() - timedelta(days=2),
        expires_at=timezone.now() + expires_in,
    )
    return contact, reverse("consent:confirm", args=[token])


def _follow(client, path, **headers):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(path, HTTP_USER_AGENT="Mozilla/5.0 Test", **headers)


def _allowed(contact) -> bool:
    return selectors.consent_allowed(contact=contact, purpose_code="marketing_products")


def test_an_old_link_still_in_its_window_confirms_the_waiting_consent(client):
    contact, path = _old_sign_up()
    assert not _allowed(contact)  # the old web-form grant alone never counted
    assert client.get(path).status_code == 200  # the button page: mail scanners change nothing
    response = _follow(client, path)
    assert response.status_code == 200
    assert "Subscription confirmed" in response.text or "bekreftet" in response.text.lower()
    assert _allowed(contact)
    event = ConsentEvent.objects.filter(contact=contact).order_by("-id").first()
    assert (event.action, event.authority, event.wording.text) == ("granted", "person_confirmed", WORDING)
    assert ConsentConfirmation.objects.get(contact=contact).confirmed_at is not None
    assert [m.to for m in mail.outbox] == [[contact.email]]  # the receipt


@pytest.mark.parametrize(
    ("language", "words"),
    [("en", "no longer valid"), ("nb", "ikke lenger gyldig")],
)
def test_an_expired_old_link_says_so_in_the_persons_language_and_how_to_sign_up_again(
    client, language, words
):
    contact, path = _old_sign_up(language=language, expires_in=-timedelta(days=1))
    events = ConsentEvent.objects.count()
    response = _follow(client, path)
    assert response.status_code == 410
    assert words in response.text
    assert reverse("consent:subscribe") in response.text
    assert ConsentEvent.objects.count() == events and not _allowed(contact)


def test_an_old_link_used_twice_is_no_longer_valid_the_second_time(client):
    contact, path = _old_sign_up()
    assert _follow(client, path).status_code == 200
    events = ConsentEvent.objects.count()
    assert _follow(client, path).status_code == 410
    assert ConsentEvent.objects.count() == events and _allowed(contact)


def test_an_old_link_followed_after_a_withdrawal_or_objection_changes_nothing(client):
    withdrawn, path_withdrawn = _old_sign_up()
    services.consent_withdraw(
        contact=withdrawn, purpose_code="marketing_products", channel="portal", actor=PERSON,
        ip_address="192.0.2.7",
    )  # fmt: skip
    objected, path_objected = _old_sign_up()
    services.objection_record(
        contact=objected,
        purpose_code="direct_marketing",
        channel="portal",
        actor=PERSON,
        ip_address="192.0.2.7",
    )
    for contact, path in ((withdrawn, path_withdrawn), (objected, path_objected)):
        assert _follow(client, path).status_code == 410
        assert not _allowed(contact)
    assert ConsentState.objects.get(contact=withdrawn).state == "withdrawn"


def test_an_unknown_link_is_not_valid_and_offers_the_sign_up_form(client):
    response = _follow(client, reverse("consent:confirm", args=["x" * 43]))
    assert response.status_code == 400
    assert reverse("consent:subscribe") in response.text
