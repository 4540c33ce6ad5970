"""One batch of the sweep: claim the rows, count them, hand them to the removal engine."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from core.audit import Actor
from core.registry import PersonalData
from core.removal import Action, Door, Target, removal_execute
from core.removal.sql import id_filter, plain_plans

from ..models import RetentionPolicy, SweepRun
from ..selectors import (
    policy_due,
    policy_plan,
)
from .lock import sweep_lock_renew
from .statistics import _record_statistics

logger = logging.getLogger(__name__)

MAX_RECORDED_ERRORS = 100

# Removing one batch ---------------------------------------------------------


def _remove(
    *,
    policy: RetentionPolicy,
    declaration: PersonalData,
    pks: list[Any],
    plan: dict[str, Any] | None,
    run_id: int,
) -> tuple[int, int]:
    """Delete or anonymise the rows ``pks`` through the removal engine; returns (deleted, anonymised).

    The engine applies holds, guards and ``must_keep`` again and walks what
    hangs off the rows (a contact's interactions follow their own declaration,
    a spent hold loses its link and stays). The statistics count the batch
    first, deleted or anonymised alike (the policy: statistics only anonymised).
    """
    rows = id_filter(declaration.model, "pk", pks)
    _record_statistics(policy=policy, declaration=declaration, pks=pks)
    target = Target(
        declaration,
        declaration.model._default_manager.filter(rows),
        action=Action.DELETE if plan is None else Action.ANONYMISE,
        keep_fields=tuple(policy.keep_for_statistics or ()),
    )
    outcome = removal_execute(
        targets=[target],
        door=Door.SWEEP,
        actor=Actor.system("retention"),
        reference=f"sweep-run-{run_id}",
        audit_action="retention.remove",
    )
    line = outcome.models.get(declaration.label)
    if line is None:
        return 0, 0
    return line.deleted, line.anonymised


@dataclass
class BatchResult:
    claimed: int = 0
    deleted: int = 0
    anonymised: int = 0
    last_pk: Any = None
    errors: list[dict[str, Any]] = field(default_factory=list)


def _claim(
    *,
    policy: RetentionPolicy,
    declaration: PersonalData,
    plan: dict[str, Any] | None,
    after: Any,
    size: int,
    now: datetime,
) -> list[Any]:
    queryset = policy_due(policy=policy, declaration=declaration, now=now, plan=plan).order_by("pk")
    if after is not None:
        queryset = queryset.filter(pk__gt=after)
    if connection.features.has_select_for_update_skip_locked:
        # Two workers never take the same rows: each skips what the other holds.
        queryset = queryset.select_for_update(skip_locked=True, of=("self",))
    return list(queryset.values_list("pk", flat=True)[:size])


def sweep_batch(
    *,
    policy: RetentionPolicy,
    declaration: PersonalData,
    run: SweepRun,
    after: Any = None,
    size: int | None = None,
    now: datetime | None = None,
    lock_holder: str | None = None,
) -> BatchResult | None:
    """Claim and remove one batch, in one transaction; None when nothing is left.

    A row that fails is retried alone, in its own savepoint, and recorded; the
    others go on. A row and whatever cascades from it go in one statement set
    inside one savepoint, so a person is never half-deleted.
    """
    size = size or settings.RETENTION_BATCH_SIZE
    now = now or timezone.now()
    plan = policy_plan(policy, declaration)
    result = BatchResult()
    with transaction.atomic():
        plain_plans()  # the statistics and the engine's statements: see core.removal.sql
        if lock_holder is not None:
            sweep_lock_renew(holder=lock_holder)
        pks = _claim(policy=policy, declaration=declaration, plan=plan, after=after, size=size, now=now)
        if not pks:
            return None
        result.claimed, result.last_pk = len(pks), pks[-1]
        try:
            with transaction.atomic():
                result.deleted, result.anonymised = _remove(
                    policy=policy, declaration=declaration, pks=pks, plan=plan, run_id=run.pk
                )
        except Exception:  # any failure: go row by row, below
            for pk in pks:
                try:
                    with transaction.atomic():
                        deleted, anonymised = _remove(
                            policy=policy, declaration=declaration, pks=[pk], plan=plan, run_id=run.pk
                        )
                except Exception as error:
                    # Ids and the error's kind only: messages can quote values.
                    result.errors.append(
                        {"model": declaration.label, "id": pk, "error": type(error).__name__}
                    )
                    logger.warning(
                        "retention: %s #%s not removed (%s)", declaration.label, pk, type(error).__name__
                    )
                else:
                    result.deleted += deleted
                    result.anonymised += anonymised
        SweepRun.objects.filter(pk=run.pk).update(
            deleted=F("deleted") + result.deleted,
            anonymised=F("anonymised") + result.anonymised,
            batches=F("batches") + 1,
            error_count=F("error_count") + len(result.errors),
        )
        if result.errors:
            current = SweepRun.objects.select_for_update().get(pk=run.pk)
            current.errors = (current.errors + result.errors)[:MAX_RECORDED_ERRORS]
            current.save(update_fields=["errors"])
    return result
