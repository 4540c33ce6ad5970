"""Recording the audit trail: one call, ``audit_record``.

Every service that changes personal data, and every staff view or export that
reveals it, calls ``audit_record``. The event holds who, what, which record,
which field names, when and from where; never a value.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import models
from django.http import HttpRequest

from .http import client_ip
from .models import AuditEvent

__all__ = ["Actor", "audit_record", "audit_record_many", "client_ip"]


@dataclass(frozen=True)
class Actor:
    kind: str
    id: str = ""
    ip_address: str | None = None

    @classmethod
    def staff(cls, user: models.Model, ip_address: str | None = None) -> Actor:
        return cls(AuditEvent.ActorKind.STAFF, str(user.pk), ip_address)

    @classmethod
    def system(cls, job: str) -> Actor:
        return cls(AuditEvent.ActorKind.SYSTEM, job)

    @classmethod
    def subject(cls, ip_address: str | None = None) -> Actor:
        return cls(AuditEvent.ActorKind.SUBJECT, "", ip_address)

    @classmethod
    def api_client(cls, client_id: str, ip_address: str | None = None) -> Actor:
        return cls(AuditEvent.ActorKind.API_CLIENT, client_id, ip_address)

    @classmethod
    def from_request(cls, request: HttpRequest) -> Actor:
        ip = client_ip(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return cls.staff(user, ip)
        return cls.subject(ip)


def audit_record(
    *,
    actor: Actor,
    action: str,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: object = "",
    fields: Iterable[str] = (),
) -> AuditEvent:
    """Append one event. ``fields`` are field names, never values."""
    if target is not None:
        target_type = target._meta.label_lower
        target_id = target.pk
    return AuditEvent.objects.create(
        actor_kind=actor.kind,
        actor_id=actor.id,
        action=action,
        target_type=target_type,
        target_id="" if target_id is None else str(target_id),
        changed_fields=sorted(set(fields)),
        ip_address=actor.ip_address,
    )


def audit_record_many(*, actor: Actor, action: str, model: type[models.Model], ids: Iterable[object]) -> int:
    """One event per record, in one statement (exports and bulk actions)."""
    label = model._meta.label_lower
    events = [
        AuditEvent(
            actor_kind=actor.kind,
            actor_id=actor.id,
            action=action,
            target_type=label,
            target_id=str(pk),
            ip_address=actor.ip_address,
        )
        for pk in ids
    ]
    AuditEvent.objects.bulk_create(events, batch_size=1000)
    return len(events)
