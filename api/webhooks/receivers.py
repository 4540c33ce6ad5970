"""Receivers of core.events: each writes the webhook deliveries in the sender's transaction.

Payloads carry only what the recipient already holds: the addresses it knows the
person by, our contact ids, field names (never values), purpose codes.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from core import events

from ..models import FiledRequest, WebhookEvent
from . import services


@receiver(events.subject_erased, dispatch_uid="api.webhooks.subject_erased")
def on_subject_erased(sender: Any, **kwargs: Any) -> None:
    services.deliveries_queue(
        event=WebhookEvent.SUBJECT_ERASED,
        data={
            "emails": sorted(kwargs.get("emails") or []),
            "contact_ids": list(kwargs.get("contact_ids") or []),
        },
        recipients=kwargs.get("recipients") or [],
        request_id=kwargs.get("request_id"),
        contact_ids=kwargs.get("contact_ids") or [],
    )


@receiver(events.subject_rectified, dispatch_uid="api.webhooks.subject_rectified")
def on_subject_rectified(sender: Any, **kwargs: Any) -> None:
    contact_id = kwargs.get("contact_id")
    services.deliveries_queue(
        event=WebhookEvent.SUBJECT_RECTIFIED,
        data={
            "email": kwargs.get("email"),
            "contact_id": contact_id,
            "fields": sorted(kwargs.get("fields") or []),
        },
        recipients=kwargs.get("recipients") or [],
        request_id=kwargs.get("request_id"),
        contact_ids=[contact_id] if contact_id else [],
    )


@receiver(events.subject_restricted, dispatch_uid="api.webhooks.subject_restricted")
def on_subject_restricted(sender: Any, **kwargs: Any) -> None:
    services.deliveries_queue(
        event=WebhookEvent.SUBJECT_RESTRICTED,
        data={
            "email": kwargs.get("email"),
            "contact_ids": list(kwargs.get("contact_ids") or []),
            "lifted": bool(kwargs.get("lifted")),
        },
        recipients=kwargs.get("recipients") or [],
        request_id=kwargs.get("request_id"),
        contact_ids=kwargs.get("contact_ids") or [],
    )


@receiver(events.consent_changed, dispatch_uid="api.webhooks.consent_changed")
def on_consent_changed(sender: Any, **kwargs: Any) -> None:
    services.deliveries_queue(
        event=WebhookEvent.CONSENT_CHANGED,
        data={
            "email": kwargs.get("email"),
            "contact_id": kwargs.get("contact_id"),
            "purpose": kwargs.get("purpose"),
            "allowed": bool(kwargs.get("allowed")),
            "actor_kind": kwargs.get("actor_kind"),
        },
    )


@receiver(events.suppression_added, dispatch_uid="api.webhooks.suppression_added")
def on_suppression_added(sender: Any, **kwargs: Any) -> None:
    services.deliveries_queue(
        event=WebhookEvent.SUPPRESSION_ADDED,
        data={"email_hash": kwargs.get("email_hash"), "purposes": list(kwargs.get("purposes") or [])},
    )


@receiver(events.request_completed, dispatch_uid="api.webhooks.request_completed")
def on_request_completed(sender: Any, **kwargs: Any) -> None:
    request_id = kwargs.get("request_id")
    filed = FiledRequest.objects.filter(request_id=request_id).select_related("request").first()
    services.deliveries_queue(
        event=WebhookEvent.REQUEST_COMPLETED,
        data={
            # The reference a client knows its request by, when it filed it.
            "reference": filed.request.reference if filed else None,
            "request_type": kwargs.get("request_type"),
            "outcome": kwargs.get("outcome"),
        },
    )
