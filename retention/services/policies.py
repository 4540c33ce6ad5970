"""Policies and legal holds: validated, written in one transaction, audited."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import Actor, audit_record
from core.errors import Conflict
from subjects.models import Contact, Organisation

from ..models import LegalHold, RetentionPolicy

# Policies and holds -------------------------------------------------------


def _save(instance: models.Model, *, update_fields: Iterable[str] | None = None) -> None:
    instance.full_clean()
    instance.save(update_fields=list(update_fields) if update_fields is not None else None)


def policy_create(*, actor: Actor, **values: Any) -> RetentionPolicy:
    policy = RetentionPolicy(**values)
    with transaction.atomic():
        _save(policy)
        audit_record(actor=actor, action="retention_policy.create", target=policy, fields=values)
    return policy


def policy_update(*, policy: RetentionPolicy, actor: Actor, changes: dict[str, Any]) -> RetentionPolicy:
    for name, value in changes.items():
        setattr(policy, name, value)
    with transaction.atomic():
        _save(policy, update_fields=[*changes, "updated_at"])
        audit_record(actor=actor, action="retention_policy.update", target=policy, fields=changes)
    return policy


def legal_hold_place(
    *,
    actor: Actor,
    scope: str,
    reason: str,
    ends_on: date,
    contact: Contact | None = None,
    organisation: Organisation | None = None,
    category: str = "",
    starts_on: date | None = None,
    placed_by: AbstractBaseUser | None = None,
) -> LegalHold:
    hold = LegalHold(
        scope=scope,
        reason=(reason or "").strip(),
        ends_on=ends_on,
        contact=contact,
        organisation=organisation,
        category=category or "",
        starts_on=starts_on or timezone.localdate(),
        placed_by=placed_by,
    )
    with transaction.atomic():
        _save(hold)
        audit_record(
            actor=actor, action="legal_hold.place", target=hold, fields=["scope", "reason", "ends_on"]
        )
    return hold


def legal_hold_update(*, hold: LegalHold, actor: Actor, changes: dict[str, Any]) -> LegalHold:
    for name, value in changes.items():
        setattr(hold, name, value)
    with transaction.atomic():
        _save(hold, update_fields=list(changes))
        audit_record(actor=actor, action="legal_hold.update", target=hold, fields=changes)
    return hold


def legal_hold_lift(*, hold: LegalHold, actor: Actor) -> LegalHold:
    with transaction.atomic():
        # Conditional UPDATE: lifting twice records one event.
        if not LegalHold.objects.filter(pk=hold.pk, lifted_at__isnull=True).update(lifted_at=timezone.now()):
            raise Conflict(_("This hold has already been lifted."))
        hold.refresh_from_db(fields=["lifted_at"])
        audit_record(actor=actor, action="legal_hold.lift", target=hold, fields=["lifted_at"])
    return hold
