"""Recording the audit trail: one call, ``audit_record``.

Every service that changes personal data, and every staff view or export that
reveals it, calls ``audit_record``. The event holds who, what, which record,
which field names, when and from where; never a value.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.apps import apps as django_apps
from django.db import models
from django.http import HttpRequest

from .audit_chain import chain_append, chain_append_read
from .http import client_ip
from .models import AuditEvent

__all__ = [
    "Actor",
    "audit_read",
    "audit_record",
    "audit_record_many",
    "audit_record_read",
    "client_ip",
    "staff_role",
]


@dataclass(frozen=True)
class Actor:
    kind: str
    id: str = ""
    ip_address: str | None = None
    role: str = ""

    @classmethod
    def staff(cls, user: models.Model, ip_address: str | None = None, role: str = "") -> Actor:
        return cls(AuditEvent.ActorKind.STAFF, str(user.pk), ip_address, role)

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
            # The role is part of the record (who acted, in which capacity); one
            # query per request, kept on the request for later events.
            role = getattr(request, "_audit_staff_role", None)
            if role is None:
                role = staff_role(user)
                request._audit_staff_role = role  # type: ignore[attr-defined]
            return cls.staff(user, ip, role)
        return cls.subject(ip)


def _event(
    *,
    actor: Actor,
    action: str,
    target: models.Model | None,
    target_type: str,
    target_id: object,
    fields: Iterable[str],
) -> AuditEvent:
    if target is not None:
        target_type = target._meta.label_lower
        target_id = target.pk
    return AuditEvent(
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_role=actor.role,
        action=action,
        target_type=target_type,
        target_id="" if target_id is None else str(target_id),
        changed_fields=sorted(set(fields)),
        ip_address=actor.ip_address,
    )


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
    event = _event(actor=actor, action=action, target=target, target_type=target_type,
                   target_id=target_id, fields=fields)  # fmt: skip
    chain_append([event])
    return event


def audit_record_read(
    *, actor: Actor, action: str, target_type: str = "", target_id: object = ""
) -> AuditEvent:
    """Append the event of a call that only read (Art. 32: reading is audited too), without
    waiting for the disk.

    A read changes nothing, so its event is committed on its own with PostgreSQL's
    ``synchronous_commit`` off for that one transaction (``chain_append_read``): the
    caller does not wait for the write-ahead log to reach the disk, and the chain's lock
    is held for the statement, not for a flush. The mail tool checks consent before every
    send, and a flush per check capped the API at a few dozen checks a second (README,
    bench_api). The cost: a crash of the database server (not of Django) can lose the
    read events of its last fraction of a second (at most three times
    ``wal_writer_delay``); the chain stays whole, because the log is flushed in order, so
    a later durable commit carries every earlier one. Changes are never recorded this
    way; inside a caller's transaction (which may write) the event is durable as usual.
    """
    event = _event(actor=actor, action=action, target=None, target_type=target_type,
                   target_id=target_id, fields=())  # fmt: skip
    return chain_append_read(event)


def audit_record_many(*, actor: Actor, action: str, model: type[models.Model], ids: Iterable[object]) -> int:
    """One event per record, in one statement (exports and bulk actions)."""
    label = model._meta.label_lower
    events = [
        AuditEvent(
            actor_kind=actor.kind,
            actor_id=actor.id,
            actor_role=actor.role,
            action=action,
            target_type=label,
            target_id=str(pk),
            ip_address=actor.ip_address,
        )
        for pk in ids
    ]
    if events:
        chain_append(events)
    return len(events)


def staff_role(user: models.Model) -> str:
    """The role(s) a staff member acts in, for the audit trail: "superuser", or their roles.

    The roles are staff-roles' (``staff.selectors.staff_role_names``, the one
    function that knows them); without that app, the user's group names.
    """
    if getattr(user, "is_superuser", False):
        return "superuser"
    if getattr(user, "groups", None) is None:
        return ""
    if django_apps.is_installed("staff"):
        from staff.selectors import staff_role_names

        names = staff_role_names(user=user)
    else:
        names = sorted(user.groups.values_list("name", flat=True))
    return ",".join(names)[:200]


def audit_read(request: HttpRequest, *, target: models.Model, action: str = "") -> AuditEvent:
    """Record that a staff member opened a record, a report, a download or an export.

    Art. 32 and the accountability principle (Art. 5(2)): who saw a person's
    data matters as much as who changed it. ``action`` defaults to
    ``<model>.view``.
    """
    actor = Actor.from_request(request)
    return audit_record(actor=actor, action=action or f"{target._meta.model_name}.view", target=target)
