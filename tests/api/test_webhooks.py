"""Signed webhooks: signatures checked by standardwebhooks, the outbox in the sender's
transaction, retries, dead letters, replay, the circuit, and Art. 19 acknowledgement."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from accountability.models import Disclosure
from api.models import WebhookAttempt, WebhookDelivery
from api.webhooks import services, signing
from core import events
from core.audit import Actor
from requests_dsar.models import DataSubjectRequest, RecipientNotice
from tests.api.receiver import webhook_receiver

pytestmark = pytest.mark.django_db
DPO = Actor.system("test")
Status = WebhookDelivery.Status


def erase_event(request_id=None, recipients=("crm_provider",)):
    events.subject_erased.send(
        sender=None, emails=["kari@firma.no"], contact_ids=[7], recipients=list(recipients),
        request_id=request_id, reason="request",
    )  # fmt: skip


def test_our_signature_verifies_with_the_standardwebhooks_package():
    secret = signing.secret_new()
    body = '{"type":"subject.erased"}'
    headers = signing.signed_headers(
        secrets_=[secret], message_id="msg_1", timestamp=int(time.time()), body=body
    )
    assert Webhook(secret).verify(body, headers) == {"type": "subject.erased"}
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.secret_new()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body + " ", headers)


def test_during_a_rotation_both_secrets_verify():
    subscription, old = services.subscription_create(
        actor=DPO, url="https://crm.example/h", events=["subject.erased"]
    )
    new = services.subscription_rotate_secret(subscription=subscription, actor=DPO)
    body = "{}"
    headers = signing.signed_headers(
        secrets_=[new, old], message_id="m", timestamp=int(time.time()), body=body
    )
    Webhook(old).verify(body, headers)
    Webhook(new).verify(body, headers)


def test_an_art19_event_is_queued_only_for_recipients_that_held_the_data():
    crm, _s = services.subscription_create(
        actor=DPO, url="https://crm.example/h", events=["subject.erased"], recipient="crm_provider"
    )
    services.subscription_create(
        actor=DPO, url="https://mail.example/h", events=["subject.erased"], recipient="email_provider"
    )
    services.subscription_create(actor=DPO, url="https://other.example/h", events=["consent.changed"])
    erase_event()
    delivery = WebhookDelivery.objects.get()
    assert delivery.subscription == crm and delivery.event == "subject.erased"
    assert delivery.payload["data"] == {"emails": ["kari@firma.no"], "contact_ids": [7]}


def test_no_delivery_when_the_change_rolls_back():
    services.subscription_create(
        actor=DPO, url="https://crm.example/h", events=["subject.erased"], recipient="crm_provider"
    )
    with pytest.raises(RuntimeError), transaction.atomic():
        erase_event()
        raise RuntimeError("the erasure failed")
    assert not WebhookDelivery.objects.exists()


def test_a_delivery_is_signed_verified_logged_and_its_payload_dropped(django_capture_on_commit_callbacks):
    with webhook_receiver() as receiver:
        _subscription, receiver.secret = services.subscription_create(
            actor=DPO, url=receiver.url, events=["subject.erased"], recipient="crm_provider"
        )
        with django_capture_on_commit_callbacks(execute=True):
            erase_event()
    delivery = WebhookDelivery.objects.get()
    assert [r.payload["type"] for r in receiver.delivered] == ["subject.erased"]
    assert receiver.delivered[0].message_id == delivery.message_id
    assert delivery.status == Status.DELIVERED and delivery.payload is None and delivery.delivered_at
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code == 200 and attempt.number == 1


def test_a_failing_receiver_is_retried_with_backoff_then_delivered_once(django_capture_on_commit_callbacks):
    with webhook_receiver(script=[500, 503]) as receiver:
        _sub, receiver.secret = services.subscription_create(
            actor=DPO, url=receiver.url, events=["consent.changed"]
        )
        with django_capture_on_commit_callbacks(execute=True):
            events.consent_changed.send(
                sender=None, email="kari@firma.no", contact_id=7, purpose="newsletter", allowed=False,
                actor_kind="integration",
            )  # fmt: skip
        delivery = WebhookDelivery.objects.get()
        assert delivery.status == Status.RETRYING and delivery.next_attempt_at > timezone.now()
        # Not due yet: the sweep leaves it.
        assert services.deliveries_due() == []
        for _ in range(2):
            WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
            for pk in services.deliveries_due():
                services.delivery_attempt(delivery_id=pk)
        # A duplicate task for a delivered message does nothing.
        assert services.delivery_attempt(delivery_id=delivery.pk) is None
    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED and delivery.attempts == 3
    assert [a.status_code for a in delivery.attempt_log.all()] == [500, 503, 200]
    assert len(receiver.delivered) == 1
    assert len({r.message_id for r in receiver.received}) == 1


def test_the_backoff_grows_and_is_jittered():
    delays = [services.retry_delay(n).total_seconds() for n in range(1, 12)]
    assert 20 <= delays[0] <= 40 and delays[5] > delays[2] and max(delays) <= 6 * 3600 * 1.25


def test_after_three_days_a_delivery_is_a_dead_letter_and_can_be_replayed(
    django_capture_on_commit_callbacks, time_machine
):
    with webhook_receiver(default=500) as receiver:
        _sub, receiver.secret = services.subscription_create(
            actor=DPO, url=receiver.url, events=["suppression.added"]
        )
        with django_capture_on_commit_callbacks(execute=True):
            events.suppression_added.send(sender=None, email_hash="ab" * 32, purposes=["newsletter"])
        delivery = WebhookDelivery.objects.get()
        time_machine.move_to(timezone.now() + timedelta(days=3, hours=1))
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        services.delivery_attempt(delivery_id=delivery.pk)
        delivery.refresh_from_db()
        assert delivery.status == Status.DEAD and delivery.payload is not None
        assert services.deliveries_due() == []
        receiver.default = 200
        with django_capture_on_commit_callbacks(execute=True):
            assert services.delivery_replay(delivery=delivery, actor=DPO)
    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED and len(receiver.delivered) == 1


def test_an_endpoint_that_keeps_failing_is_paused_and_the_privacy_officer_told(
    settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_CIRCUIT_THRESHOLD = 3
    with webhook_receiver(default=500) as receiver:
        subscription, receiver.secret = services.subscription_create(
            actor=DPO, url=receiver.url, events=["consent.changed"]
        )
        with django_capture_on_commit_callbacks(execute=True):
            for n in range(4):
                events.consent_changed.send(
                    sender=None, email=f"p{n}@firma.no", contact_id=n, purpose="newsletter", allowed=True,
                    actor_kind="subject",
                )  # fmt: skip
        subscription.refresh_from_db()
        assert subscription.paused_at is not None
        assert len(receiver.received) == 3  # the fourth waits behind the open circuit
        assert [m.to for m in mail.outbox] == [[settings.PRIVACY_OFFICER_EMAIL]]
        receiver.default = 200
        with django_capture_on_commit_callbacks(execute=True):
            services.subscription_resume(subscription=subscription, actor=DPO)
    assert WebhookDelivery.objects.filter(status=Status.DELIVERED).count() == 4


def test_art19_notice_is_marked_told_only_on_a_2xx(django_capture_on_commit_callbacks):
    request = DataSubjectRequest.objects.create(reference="DSR-TEST0001", type="erasure", status="completed")
    notice = RecipientNotice.objects.create(request=request, recipient="crm_provider")
    with webhook_receiver(script=[500]) as receiver:
        _sub, receiver.secret = services.subscription_create(
            actor=DPO, url=receiver.url, events=["subject.erased"], recipient="crm_provider"
        )
        with django_capture_on_commit_callbacks(execute=True):
            erase_event(request_id=request.pk)
        notice.refresh_from_db()
        assert notice.told_at is None
        delivery = WebhookDelivery.objects.get()
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        services.delivery_attempt(delivery_id=delivery.pk)
    notice.refresh_from_db()
    assert notice.told_at is not None and notice.channel == RecipientNotice.Channel.API
    assert request.events.filter(action="recipient_told").exists()
    # The disclosure log (accountability) has the webhook too.
    assert Disclosure.objects.filter(recipient__code="crm_provider", channel="webhook").exists()


def test_a_recipient_missing_from_the_register_does_not_undo_the_delivery(django_capture_on_commit_callbacks):
    with webhook_receiver() as receiver:
        _sub, receiver.secret = services.subscription_create(
            actor=DPO, url=receiver.url, events=["subject.erased"], recipient="unregistered_system"
        )
        with django_capture_on_commit_callbacks(execute=True):
            erase_event(recipients=["unregistered_system"])
    assert WebhookDelivery.objects.get().status == Status.DELIVERED
    assert len(receiver.delivered) == 1


def test_a_receiver_that_cannot_be_reached_is_logged_without_the_payload():
    _subscription, _secret = services.subscription_create(
        actor=DPO, url="http://127.0.0.1:9/nothing", events=["consent.changed"]
    )
    events.consent_changed.send(
        sender=None,
        email="kari@firma.no",
        contact_id=1,
        purpose="newsletter",
        allowed=True,
        actor_kind="staff",
    )
    delivery = WebhookDelivery.objects.get()
    services.delivery_attempt(delivery_id=delivery.pk)
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None and attempt.error == "ConnectError"
    assert "kari" not in attempt.error


def test_a_client_manages_its_own_subscriptions_through_the_api(make_caller):
    owner = make_caller(["webhooks:manage"], recipient="crm_provider")
    other = make_caller(["webhooks:manage"])
    created = owner.post("/api/v1/webhooks", {"url": "https://crm.example/h", "events": ["subject.erased"]})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["secret"].startswith("whsec_") and body["recipient"] == "crm_provider"
    listed = owner.get("/api/v1/webhooks").json()["results"]
    assert [row["id"] for row in listed] == [body["id"]] and "secret" not in listed[0]
    assert other.get("/api/v1/webhooks").json()["results"] == []
    headers = {"Authorization": f"Api-Key {other.key}"}
    assert other.http.delete(f"/api/v1/webhooks/{body['id']}", headers=headers).status_code == 404
    headers = {"Authorization": f"Api-Key {owner.key}"}
    assert owner.http.delete(f"/api/v1/webhooks/{body['id']}", headers=headers).status_code == 204
    assert owner.get("/api/v1/webhooks").json()["results"] == []
    assert owner.post("/api/v1/webhooks", {"url": "ftp://x", "events": ["subject.erased"]}).status_code == 400
    assert (
        owner.post("/api/v1/webhooks", {"url": "http://10.0.0.1/", "events": ["subject.erased"]}).status_code
        == 400
    )
    assert owner.post("/api/v1/webhooks", {"url": "https://x.example", "events": ["nope"]}).status_code == 400
    assert make_caller(["consent:check"]).get("/api/v1/webhooks").status_code == 403
