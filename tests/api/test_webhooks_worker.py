"""A real Celery worker delivers webhooks to a local receiver that verifies them with
``standardwebhooks``; a failing receiver gets the retry from the worker too."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import timezone

from api.models import WebhookDelivery
from api.tasks import webhooks_deliver_due
from api.webhooks import services
from core import events
from core.audit import Actor
from tests.api.receiver import webhook_receiver
from tests.conftest import needs_redis, wait_for

pytestmark = [needs_redis, pytest.mark.django_db(transaction=True)]
DPO = Actor.system("test")


def _erase(emails: list[str]) -> None:
    with transaction.atomic():
        events.subject_erased.send(
            sender=None, emails=emails, contact_ids=[1], recipients=["crm_provider"], request_id=None,
            reason="admin",
        )  # fmt: skip


def test_the_worker_delivers_signed_events_after_commit(celery_worker):
    with webhook_receiver() as receiver:
        _sub, receiver.secret = services.subscription_create(
            actor=DPO, url=receiver.url, events=["subject.erased"], recipient="crm_provider"
        )
        for n in range(5):
            _erase([f"p{n}@firma.no"])
        wait_for(lambda: len(receiver.delivered) == 5)
        wait_for(lambda: WebhookDelivery.objects.filter(status="delivered").count() == 5)
    assert {r.payload["data"]["emails"][0] for r in receiver.delivered} == {
        f"p{n}@firma.no" for n in range(5)
    }
    assert all(r.verified for r in receiver.received)
    assert not WebhookDelivery.objects.exclude(payload=None).exists()


def test_the_worker_retries_a_failing_receiver_and_records_one_delivery(celery_worker):
    with webhook_receiver(script=[503]) as receiver:
        _sub, receiver.secret = services.subscription_create(
            actor=DPO, url=receiver.url, events=["subject.erased"], recipient="crm_provider"
        )
        _erase(["kari@firma.no"])
        delivery = wait_for(lambda: WebhookDelivery.objects.filter(status="retrying").first())
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        # The sweep (beat's job) run here, so that the delivery task it queues reaches
        # the test's private queue; the worker sends it.
        webhooks_deliver_due()
        wait_for(lambda: WebhookDelivery.objects.filter(pk=delivery.pk, status="delivered").exists())
    assert [r.answered for r in receiver.received] == [503, 200]
    assert len({r.message_id for r in receiver.received}) == 1
    assert delivery.attempt_log.count() == 2
