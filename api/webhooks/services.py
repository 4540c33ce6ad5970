"""Webhook subscriptions and deliveries: the outbox, the sending, retries, the circuit.

A delivery row is written in the transaction of the change it tells of (the
receivers of core.events), and sent by Celery after commit. At least once: the
``webhook-id`` stays the same on every attempt so the receiver can drop repeats.
Each attempt is claimed by a conditional UPDATE, so two workers never send the
same delivery at once and each outcome is recorded once.
"""

from __future__ import annotations

import json
import logging
import random
import secrets
import time
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from core.audit import Actor, audit_record
from core.errors import ApplicationError
from core.events import data_disclosed
from core.mail import send_email

from ..models import ART19_EVENTS, ApiClient, WebhookAttempt, WebhookDelivery, WebhookSubscription
from . import signing

Status = WebhookDelivery.Status
logger = logging.getLogger("api.webhooks")

# Standard Webhooks' advice: retry with growing gaps for about three days.
RETRY_WINDOW = timedelta(days=3)
FIRST_RETRY_SECONDS = 30
LONGEST_GAP_SECONDS = 6 * 3600
# A claimed attempt that never reports back (a killed worker) is retried after this.
SEND_LEASE = timedelta(minutes=5)
TIMEOUT_SECONDS = 10
SECRET_OVERLAP = timedelta(hours=24)


# --- Subscriptions ------------------------------------------------------------------------


def subscription_create(
    *,
    actor: Actor,
    url: str,
    events: list[str],
    client: ApiClient | None = None,
    recipient: str = "",
) -> tuple[WebhookSubscription, str]:
    """A new subscription; its signing secret is returned for the receiver to configure."""
    subscription = WebhookSubscription(
        client=client, recipient=recipient, url=url, events=sorted(set(events)), secret=signing.secret_new()
    )
    with transaction.atomic():
        subscription.full_clean()
        subscription.save()
        audit_record(
            actor=actor,
            action="webhook.subscribe",
            target=subscription,
            fields=["url", "events", "recipient"],
        )
    return subscription, subscription.secret


def subscription_rotate_secret(
    *, subscription: WebhookSubscription, actor: Actor, overlap: timedelta = SECRET_OVERLAP
) -> str:
    """A new secret; the old one keeps signing beside it for ``overlap``."""
    with transaction.atomic():
        row = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
        row.previous_secret, row.previous_secret_until = row.secret, timezone.now() + overlap
        row.secret = signing.secret_new()
        row.save(update_fields=["secret", "previous_secret", "previous_secret_until"])
        audit_record(actor=actor, action="webhook.rotate_secret", target=row, fields=["secret"])
    subscription.refresh_from_db()
    return subscription.secret


def subscription_resume(*, subscription: WebhookSubscription, actor: Actor) -> int:
    """Close the circuit again: the endpoint gets its waiting deliveries now."""
    with transaction.atomic():
        WebhookSubscription.objects.filter(pk=subscription.pk).update(paused_at=None, consecutive_failures=0)
        waiting = WebhookDelivery.objects.filter(
            subscription=subscription, status__in=[Status.PENDING, Status.RETRYING]
        ).update(next_attempt_at=timezone.now())
        audit_record(actor=actor, action="webhook.resume", target=subscription, fields=["paused_at"])
    _send_soon_after_commit(
        WebhookDelivery.objects.filter(
            subscription=subscription, status__in=[Status.PENDING, Status.RETRYING]
        )
    )
    return waiting


def subscription_remove(*, subscription: WebhookSubscription, actor: Actor) -> None:
    with transaction.atomic():
        WebhookSubscription.objects.filter(pk=subscription.pk).update(is_active=False)
        audit_record(actor=actor, action="webhook.unsubscribe", target=subscription, fields=["is_active"])


# --- Queueing (called by the receivers, inside the sender's transaction) -----------------


def deliveries_queue(
    *,
    event: str,
    data: dict[str, Any],
    recipients: Iterable[str] | None = None,
    request_id: int | None = None,
    contact_ids: Iterable[int] = (),
) -> list[WebhookDelivery]:
    """One delivery per subscription that must hear of ``event``; sent after commit.

    Art. 19 events go only to the subscriptions of recipients that held the
    person's data (``recipients``); the other events to every subscriber.
    """
    subscriptions = WebhookSubscription.objects.filter(is_active=True)
    if event in ART19_EVENTS:
        wanted = sorted(set(recipients or ()))
        if not wanted:
            return []
        subscriptions = subscriptions.filter(recipient__in=wanted)
    now = timezone.now()
    rows = []
    # Few subscriptions: the event list is checked here (JSON containment is not portable).
    for subscription in (s for s in subscriptions if event in s.events):
        message_id = "msg_" + secrets.token_urlsafe(18)
        rows.append(
            WebhookDelivery(
                subscription=subscription, event=event, message_id=message_id,
                payload={"type": event, "timestamp": now.isoformat(), "data": data},
                request_id=request_id, recipient=subscription.recipient, contact_ids=list(contact_ids),
            )
        )  # fmt: skip
    if not rows:
        return []
    created = WebhookDelivery.objects.bulk_create(rows)
    ids = [row.pk for row in created]
    transaction.on_commit(lambda: _send(ids))
    return created


def _send(ids: list[int]) -> None:
    from ..tasks import webhook_deliver

    for pk in ids:
        webhook_deliver.delay(pk)


def _send_soon_after_commit(deliveries: Any) -> None:
    ids = list(deliveries.values_list("pk", flat=True))
    if ids:
        transaction.on_commit(lambda: _send(ids))


# --- Sending ------------------------------------------------------------------------------


def retry_delay(attempt: int) -> timedelta:
    """Exponential backoff with jitter: 30 s, 1 min, 2 min, ... at most 6 h, each ±25 %."""
    base = min(FIRST_RETRY_SECONDS * 2 ** max(attempt - 1, 0), LONGEST_GAP_SECONDS)
    return timedelta(seconds=base * random.uniform(0.75, 1.25))


def _body(payload: Any) -> str:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def delivery_attempt(*, delivery_id: int) -> WebhookAttempt | None:
    """Send one delivery once, if it is due and nobody else is sending it; record the outcome."""
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id,
        status__in=[Status.PENDING, Status.RETRYING, Status.SENDING],
        next_attempt_at__lte=now,
        subscription__is_active=True,
        subscription__paused_at=None,
    ).update(status=Status.SENDING, attempts=F("attempts") + 1, next_attempt_at=now + SEND_LEASE)
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("subscription").get(pk=delivery_id)
    subscription = delivery.subscription
    body = _body(delivery.payload)
    keys = [subscription.secret]
    if (
        subscription.previous_secret
        and subscription.previous_secret_until
        and subscription.previous_secret_until > now
    ):
        keys.append(subscription.previous_secret)
    headers = {
        "content-type": "application/json",
        "user-agent": "Personvern-Webhooks/1",
        **signing.signed_headers(
            secrets_=keys, message_id=delivery.message_id, timestamp=int(time.time()), body=body
        ),
    }
    started = time.perf_counter()
    status_code: int | None = None
    error = ""
    try:
        response = httpx.post(
            subscription.url, content=body.encode(), headers=headers, timeout=TIMEOUT_SECONDS,
            follow_redirects=False,
        )  # fmt: skip
        status_code = response.status_code
    except httpx.HTTPError as exc:
        # The class only: a message may carry the URL's credentials or the body.
        error = type(exc).__name__
    latency = int((time.perf_counter() - started) * 1000)
    return _record(delivery, status_code=status_code, error=error, latency_ms=latency)


def _record(
    delivery: WebhookDelivery, *, status_code: int | None, error: str, latency_ms: int
) -> WebhookAttempt:
    now = timezone.now()
    ok = status_code is not None and 200 <= status_code < 300
    with transaction.atomic():
        attempt = WebhookAttempt.objects.create(
            delivery=delivery, number=delivery.attempts, status_code=status_code, latency_ms=latency_ms,
            error=error[:100] if error else ("" if ok else f"HTTP {status_code}"),
        )  # fmt: skip
        if ok:
            WebhookDelivery.objects.filter(pk=delivery.pk).update(
                status=Status.DELIVERED, payload=None, delivered_at=now, last_status_code=status_code
            )
            WebhookSubscription.objects.filter(pk=delivery.subscription_id).update(consecutive_failures=0)
            _after_delivered(delivery)
        else:
            delay = retry_delay(delivery.attempts)
            dead = now + delay > delivery.created_at + RETRY_WINDOW
            WebhookDelivery.objects.filter(pk=delivery.pk).update(
                status=Status.DEAD if dead else Status.RETRYING, next_attempt_at=now + delay,
                last_status_code=status_code,
            )  # fmt: skip
            _count_failure(delivery.subscription)
    return attempt


def _after_delivered(delivery: WebhookDelivery) -> None:
    """A 2xx: Art. 19's notice is marked told, and the disclosure is logged."""
    if not delivery.recipient:
        return
    if delivery.request_id and delivery.event in ART19_EVENTS:
        from requests_dsar.models import RecipientNotice
        from requests_dsar.services import recipient_notice_mark_told

        notice = RecipientNotice.objects.filter(
            request_id=delivery.request_id, recipient=delivery.recipient
        ).first()
        if notice is not None:
            recipient_notice_mark_told(
                notice=notice, actor=Actor.system("webhooks"), user=None, channel=RecipientNotice.Channel.API
            )
    try:
        # In a savepoint: the delivery happened and its outcome must be recorded even if
        # the disclosure log refuses (an unregistered recipient code); else it is resent.
        with transaction.atomic():
            data_disclosed.send(
                sender=WebhookDelivery, recipient=delivery.recipient, contact_ids=list(delivery.contact_ids),
                categories=["contact"], purpose="honour_rights", channel="webhook", reason=delivery.event,
            )  # fmt: skip
    except (ValidationError, ApplicationError) as error:
        logger.warning(
            "webhooks.disclosure_not_logged delivery=%s recipient=%s (%s)",
            delivery.pk, delivery.recipient, type(error).__name__,
        )  # fmt: skip


def _count_failure(subscription: WebhookSubscription) -> None:
    WebhookSubscription.objects.filter(pk=subscription.pk).update(
        consecutive_failures=F("consecutive_failures") + 1
    )
    paused = WebhookSubscription.objects.filter(
        pk=subscription.pk,
        paused_at=None,
        consecutive_failures__gte=settings.WEBHOOK_CIRCUIT_THRESHOLD,
    ).update(paused_at=timezone.now())
    if paused:
        audit_record(actor=Actor.system("webhooks"), action="webhook.pause", target=subscription)
        context = {"url": subscription.url, "failures": settings.WEBHOOK_CIRCUIT_THRESHOLD}
        transaction.on_commit(
            lambda: send_email("webhook-paused", context, to=settings.PRIVACY_OFFICER_EMAIL, language="nb")
        )


def deliveries_due(*, limit: int = 1000) -> list[int]:
    """Deliveries whose next attempt has come (retries, and sends a stopped worker lost)."""
    return list(
        WebhookDelivery.objects.filter(
            Q(status__in=[Status.PENDING, Status.RETRYING, Status.SENDING]),
            next_attempt_at__lte=timezone.now(),
            subscription__is_active=True,
            subscription__paused_at=None,
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


def delivery_replay(*, delivery: WebhookDelivery, actor: Actor) -> bool:
    """Send a dead letter again (staff, from the admin); False when it was not dead."""
    with transaction.atomic():
        # A replay gets a fresh retry window (measured from created_at).
        replayed = WebhookDelivery.objects.filter(pk=delivery.pk, status=Status.DEAD).update(
            status=Status.PENDING, next_attempt_at=timezone.now(), created_at=timezone.now()
        )
        if replayed:
            audit_record(actor=actor, action="webhook.replay", target=delivery, fields=["status"])
            pk = delivery.pk
            transaction.on_commit(lambda: _send([pk]))
    return bool(replayed)
