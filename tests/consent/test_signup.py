"""The public sign-up form: kept apart until confirmed, the same for every address, rate limited.

Regression tests for issue 9, items 1, 2, 3, 7 and 8.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from consent import selectors, services
from consent.models import ConsentEvent, ConsentState, PendingSignup
from core.errors import ApplicationError
from core.models import AuditEvent
from retention.models import LegalHold
from subjects.models import Contact
from tests.consent.factories import PERSON, grant
from tests.subjects.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits(settings):
    # A private local cache: flushing the shared Redis would drop a real worker's queues.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "signup"}
    }
    cache.clear()
    yield
    cache.clear()


def _sign_up(client, email="kari.nordmann@firma.no", topics=("marketing_products",), ip="127.0.0.1"):
    # The confirmation email leaves after commit.
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(
            reverse("consent:subscribe"),
            {"name": "Kari Nordmann", "email": email, "topics": list(topics)},
            HTTP_USER_AGENT="Mozilla/5.0 Test",
            REMOTE_ADDR=ip,
        )


def _confirm_path() -> str:
    return re.search(r"https?://[^/\s]+(/consent/confirm/[^\s/]+/)", mail.outbox[-1].body).group(1)


def _confirm(client, path):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(path, HTTP_USER_AGENT="Mozilla/5.0 Test")


def allowed(contact, code="marketing_products") -> bool:
    single = selectors.consent_allowed(contact=contact, purpose_code=code)
    batch = contact.email in selectors.consent_allowed_emails(emails=[contact.email], purpose_code=code)
    assert single == batch, "the single and the batch check must agree"
    return single


def test_a_sign_up_becomes_a_contact_and_a_consent_only_when_confirmed(client):
    response = _sign_up(client)
    assert response.status_code == 200
    # Item 7: nothing in the register or the ledger before confirmation.
    assert not Contact.objects.exists() and not ConsentEvent.objects.exists()
    signup = PendingSignup.objects.get()
    assert signup.ip_address == "127.0.0.1" and signup.topics[0]["purpose"] == "marketing_products"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["kari.nordmann@firma.no"]
    path = _confirm_path()
    assert client.get(path).status_code == 200  # a mail scanner's GET changes nothing
    assert not Contact.objects.exists()

    assert _confirm(client, path).status_code == 200
    contact = Contact.objects.get(email="kari.nordmann@firma.no")
    assert contact.source_type == Contact.SourceType.WEB_FORM
    event = ConsentEvent.objects.get(contact=contact)
    assert (event.action, event.channel, event.authority) == ("granted", "web_form", "person_confirmed")
    assert event.wording.text and "Kari" not in event.wording.text
    assert allowed(contact)
    assert not PendingSignup.objects.exists()
    # Item 10: the receipt reaches the person, attached as Kantara JSON.
    receipt_mail = mail.outbox[-1]
    assert receipt_mail.to == [contact.email]
    _name, content, mimetype = receipt_mail.attachments[0]
    receipt = json.loads(content)
    assert mimetype == "application/json" and receipt["consentReceiptID"] == str(event.receipt_id)
    assert receipt["consentStatus"] == "granted"


def test_a_reused_or_forged_confirmation_link_is_refused_and_changes_nothing(client):
    _sign_up(client)
    path = _confirm_path()
    _confirm(client, path)
    count = ConsentEvent.objects.count()
    assert client.post(path).status_code == 400
    assert client.post(reverse("consent:confirm", args=["forged-token-value"])).status_code == 400
    assert ConsentEvent.objects.count() == count


def test_an_unconfirmed_sign_up_is_deleted_when_the_window_closes(client):
    _sign_up(client)
    path = _confirm_path()
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        assert client.post(path).status_code == 410
        assert services.consent_confirmations_expire() == 1
        assert services.consent_confirmations_expire() == 0
    assert not PendingSignup.objects.exists()
    assert not Contact.objects.exists() and not ConsentEvent.objects.exists()
    # Through the one removal engine, which records the audit event (issue 8).
    assert (
        AuditEvent.objects.filter(
            action="consent.signups_expire", target_type="consent.pendingsignup"
        ).count()
        == 1
    )


def test_the_expiry_keeps_a_sign_up_still_inside_its_window_and_one_under_a_legal_hold(client):
    _sign_up(client, email="kari@firma.no")
    _sign_up(client, email="per@firma.no")
    later = timezone.now() + timedelta(days=8)
    _sign_up(client, email="ny@firma.no")  # asked today; its window is still open at ``later``
    PendingSignup.objects.filter(email="ny@firma.no").update(expires_at=later + timedelta(days=1))
    LegalHold.objects.create(
        scope=LegalHold.Scope.CATEGORY, category="consent", reason="Tvist om samtykke, sak 12",
        ends_on=timezone.localdate() + timedelta(days=30),
    )  # fmt: skip
    with time_machine.travel(later):
        assert services.consent_confirmations_expire() == 0
    LegalHold.objects.update(lifted_at=timezone.now())
    with time_machine.travel(later):
        assert services.consent_confirmations_expire() == 2
    assert list(PendingSignup.objects.values_list("email", flat=True)) == ["ny@firma.no"]


def test_a_stranger_cannot_switch_off_a_confirmed_consent(client):
    # Item 1: the sign-up of someone else's address for a topic they confirmed.
    contact = ContactFactory(email="ola@firma.no")
    grant(contact, "marketing_products")
    _sign_up(client, email="ola@firma.no")
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        services.consent_confirmations_expire()
    assert ConsentState.objects.get(contact=contact).state == "granted"
    assert allowed(contact)


def test_a_stranger_cannot_reopen_marketing_to_an_inbox_that_opted_out(client):
    # Item 2: a function's address unsubscribes with the one-click link, then an unconfirmed sign-up.
    contact = ContactFactory(email="post@firma.no", email_kind=Contact.EmailKind.FUNCTIONAL)
    assert allowed(contact)  # a function's address, outside § 15
    token = services.unsubscribe_token(contact=contact, purpose_code="marketing_products")
    client.post(reverse("consent:unsubscribe", args=[token]), HTTP_USER_AGENT="Mozilla/5.0")
    assert not allowed(contact)
    _sign_up(client, email="post@firma.no")
    assert not allowed(contact)
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        services.consent_confirmations_expire()
    assert not allowed(contact)


def test_an_unconfirmed_sign_up_to_direct_marketing_does_not_lift_an_objection(client):
    # Item 3: the service itself refuses direct marketing as a sign-up topic.
    contact = ContactFactory()
    grant(contact)
    services.objection_record(
        contact=contact,
        purpose_code="direct_marketing",
        channel="portal",
        actor=PERSON,
        ip_address="192.0.2.7",
    )
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.signup_create(
            email=contact.email, name="X", topics=["direct_marketing"], language="nb", ip_address="192.0.2.9"
        )
    with pytest.raises(ApplicationError):
        services.consent_grant(
            contact=contact, purpose_code="direct_marketing", channel="web_form", actor=PERSON,
            wording="Ja", ip_address="192.0.2.9",
        )  # fmt: skip
    assert not allowed(contact)
    assert ConsentState.objects.get(contact=contact, purpose__code="direct_marketing").state == "objected"


def test_the_form_answers_the_same_work_for_known_and_unknown_addresses(client):
    # Item 8: the same queries (so the same time) whether the address is in the register or not.
    ContactFactory(email="known@firma.no")
    grant(Contact.objects.get(email="known@firma.no"))

    def statements(email):
        with CaptureQueriesContext(connection) as queries:
            response = _sign_up(client, email=email, ip=f"192.0.2.{len(email)}")
        shape = [re.sub(r"'[^']*'|\d+", "?", q["sql"]) for q in queries.captured_queries]
        page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())
        return response.status_code, page, shape

    statements("warm@firma.no")  # the first sign-up stores the wording shown, once for everyone
    known = statements("known@firma.no")
    unknown = statements("ukjent@firma.no")
    assert known[0] == unknown[0] == 200
    assert known[1] == unknown[1]
    assert known[2] == unknown[2]
    assert not any("subjects_contact" in sql for sql in known[2])


def test_the_form_is_rate_limited_per_address_and_per_ip(client):
    # Item 8: 15 posts no longer mean 15 emails to one inbox.
    for n in range(15):
        _sign_up(client, email="offer@firma.no", ip=f"198.51.100.{n + 1}")
    assert len([m for m in mail.outbox if m.to == ["offer@firma.no"]]) == 3
    assert _sign_up(client, email="offer@firma.no", ip="198.51.100.99").status_code == 429
    cache.clear()
    for n in range(10):
        assert _sign_up(client, email=f"person{n}@firma.no", ip="203.0.113.5").status_code == 200
    assert _sign_up(client, email="another@firma.no", ip="203.0.113.5").status_code == 429


def test_a_confirmed_sign_up_leaves_through_the_engine_and_its_link_never_works_twice(client):
    _sign_up(client, email="kari@firma.no")
    path = _confirm_path()
    # A hold on the consent category keeps the confirmed sign-up (the engine applies it) ...
    hold = LegalHold.objects.create(
        scope=LegalHold.Scope.CATEGORY, category="consent", reason="Tvist om samtykke, sak 13",
        ends_on=timezone.localdate() + timedelta(days=30),
    )  # fmt: skip
    assert _confirm(client, path).status_code == 200
    signup = PendingSignup.objects.get()
    assert signup.confirmed_at is not None
    # ... yet its link is spent: a second click records nothing and says so.
    count = ConsentEvent.objects.count()
    assert client.post(path).status_code == 400
    assert ConsentEvent.objects.count() == count == 1
    assert not selectors.pending_signups_for_email(email="kari@firma.no").exists()
    # Once the hold is lifted, the nightly expiry removes it, window or not.
    LegalHold.objects.filter(pk=hold.pk).update(lifted_at=timezone.now())
    assert services.consent_confirmations_expire() == 1
    assert not PendingSignup.objects.exists()


def test_without_a_hold_the_confirmed_sign_up_goes_at_once_and_the_engine_records_it(client):
    _sign_up(client)
    _confirm(client, _confirm_path())
    assert not PendingSignup.objects.exists()
    assert AuditEvent.objects.filter(
        action="consent.signup_confirmed", target_type="consent.pendingsignup"
    ).exists()
