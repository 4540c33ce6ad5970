"""The sweep: every enabled policy under the lock, the safety valve, batches until nothing is due."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import Actor, audit_record
from core.errors import NotFound
from core.mail import send_email

from ..errors import LockLost, SweepBusy
from ..models import RetentionPolicy, SweepRun
from ..selectors import (
    category_is_held,
    policy_declarations,
    policy_due,
    policy_plan,
    retention_preview,
    valve_share,
)
from .batches import sweep_batch
from .lock import sweep_lock_claim, sweep_lock_release
from .statistics import statistics_roll_up

logger = logging.getLogger(__name__)

# The sweep ------------------------------------------------------------------


def _valve_alert(*, run: SweepRun, share: float, limit: float) -> None:
    send_email(
        "retention-valve",
        {
            "policy_code": run.policy_code,
            "category": run.category,
            "due": run.due,
            "total": run.total,
            "share": f"{share:.1%}",
            "limit": f"{limit:.1%}",
            "run_id": run.pk,
        },
        to=settings.PRIVACY_OFFICER_EMAIL,
        language=settings.LANGUAGE_CODE,
    )


def _finish(run: SweepRun, status: str) -> SweepRun:
    SweepRun.objects.filter(pk=run.pk).update(status=status, finished_at=timezone.now())
    run.refresh_from_db()
    audit_record(
        actor=Actor.system("retention"),
        action="retention.sweep",
        target=run,
        fields=["status", "deleted", "anonymised", "error_count"],
    )
    return run


def policy_sweep(
    *,
    policy: RetentionPolicy,
    trigger: str,
    now: datetime | None = None,
    lock_holder: str | None = None,
    batch_size: int | None = None,
    task_id: str = "",
) -> SweepRun:
    """One policy's run: the safety valve, then batches until nothing is due."""
    now = now or timezone.now()
    declarations = policy_declarations(policy)
    run = SweepRun.objects.create(
        policy=policy,
        policy_code=policy.code,
        category=policy.category,
        trigger=trigger,
        cutoff=now - timedelta(days=policy.period_days),
        task_id=task_id,
    )
    if category_is_held(policy.category, today=timezone.localdate(now)):
        return _finish(run, SweepRun.Status.HELD)
    # The safety valve (a wrong policy must not wipe the register): measured
    # before the first row goes, per model of the category.
    limit = valve_share(policy)
    worst = 0.0
    for declaration in declarations:
        due = policy_due(
            policy=policy, declaration=declaration, now=now, plan=policy_plan(policy, declaration)
        ).count()
        total = declaration.model._default_manager.count()
        run.due += due
        run.total += total
        if total:
            worst = max(worst, due / total)
    SweepRun.objects.filter(pk=run.pk).update(due=run.due, total=run.total)
    if worst > limit:
        run = _finish(run, SweepRun.Status.STOPPED_BY_VALVE)
        logger.warning(
            "retention: policy %s stopped by the safety valve (%.3f > %.3f)", policy.code, worst, limit
        )
        _valve_alert(run=run, share=worst, limit=limit)
        return run
    pause = float(getattr(settings, "RETENTION_BATCH_PAUSE_SECONDS", 0) or 0)
    try:
        for declaration in declarations:
            after = None
            while True:
                result = sweep_batch(
                    policy=policy,
                    declaration=declaration,
                    run=run,
                    after=after,
                    size=batch_size,
                    now=now,
                    lock_holder=lock_holder,
                )
                if result is None:
                    break
                after = result.last_pk
                if pause:
                    time.sleep(pause)  # test harness only: gives a test time to kill the worker mid-run
    except LockLost:
        return _finish(run, SweepRun.Status.INTERRUPTED)
    except Exception as error:
        from celery.exceptions import SoftTimeLimitExceeded

        if isinstance(error, SoftTimeLimitExceeded):
            # Resumable: every committed batch stays done; the next run goes on.
            _finish(run, SweepRun.Status.INTERRUPTED)
        else:
            _finish(run, SweepRun.Status.FAILED)
        raise
    statistics_roll_up()
    return _finish(run, SweepRun.Status.FINISHED)


def sweep_skipped_record(
    *, trigger: str, codes: Iterable[str] | None = None, task_id: str = ""
) -> list[SweepRun]:
    """Put a sweep that could not start on record, one run per policy it would have run.

    The run history then shows the night a sweep did not happen, not only a log line.
    """
    policies = RetentionPolicy.objects.filter(enabled=True)
    if codes:
        policies = RetentionPolicy.objects.filter(code__in=list(codes))
    now = timezone.now()
    runs = SweepRun.objects.bulk_create(
        [
            SweepRun(
                policy=policy,
                policy_code=policy.code,
                category=policy.category,
                trigger=trigger,
                status=SweepRun.Status.SKIPPED,
                started_at=now,
                finished_at=now,
                task_id=task_id,
            )
            for policy in policies
        ]
    )
    return runs


@dataclass
class SweepOutcome:
    runs: list[SweepRun] = field(default_factory=list)
    preview: list[Any] = field(default_factory=list)
    dry_run: bool = False


def retention_sweep(
    *,
    trigger: str = SweepRun.Trigger.SCHEDULE,
    codes: Iterable[str] | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
    batch_size: int | None = None,
    task_id: str = "",
) -> SweepOutcome:
    """Run every enabled policy (or those named), under the lock. A dry run only reads.

    ``task_id``: the Celery task's id, the lock's holder and each run's
    ``task_id``, so that the same task redelivered takes its own run over.
    """
    policies = RetentionPolicy.objects.filter(enabled=True)
    if codes:
        codes = list(codes)
        policies = RetentionPolicy.objects.filter(code__in=codes)
        missing = sorted(set(codes) - set(policies.values_list("code", flat=True)))
        if missing:
            raise NotFound(_("No retention policy with the code %(code)s.") % {"code": ", ".join(missing)})
    if dry_run:
        return SweepOutcome(preview=retention_preview(policies=policies), dry_run=True)
    holder = task_id or uuid.uuid4().hex
    if not sweep_lock_claim(holder=holder):
        raise SweepBusy(_("Another retention sweep is running; this one did not start."))
    outcome = SweepOutcome()
    try:
        # Holding the lock, no other run is alive: a run still marked running
        # was cut off (its worker killed); every batch it committed stays done.
        SweepRun.objects.filter(status=SweepRun.Status.RUNNING).update(
            status=SweepRun.Status.INTERRUPTED, finished_at=timezone.now()
        )
        for policy in policies:
            run = policy_sweep(
                policy=policy,
                trigger=trigger,
                now=now,
                lock_holder=holder,
                batch_size=batch_size,
                task_id=task_id,
            )
            outcome.runs.append(run)
            if run.status == SweepRun.Status.INTERRUPTED:
                break
    finally:
        sweep_lock_release(holder=holder)
    return outcome
