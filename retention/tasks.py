"""The daily sweep, as a Celery task (its schedule: PERIODIC_TASKS in config/settings/base.py).

Safe to retry by construction: acks_late with reject_on_worker_lost (settings)
requeue a task whose worker died, the lock keeps two runs from sweeping at
once, and every batch is its own transaction, so a redelivered or overlapping
run finds exactly what is still due.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from .models import SweepRun
from .services import SweepBusy, retention_sweep, sweep_skipped_record

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    name="retention.tasks.retention_sweep",
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
)
def retention_sweep_task(
    self: Any, codes: list[str] | None = None, trigger: str = SweepRun.Trigger.SCHEDULE
) -> None:
    task_id = self.request.id or ""
    try:
        # The task's id holds the lock: redelivered after its worker was killed, the same
        # task takes its own interrupted run over at once (retention.services.sweep_lock_claim).
        outcome = retention_sweep(trigger=trigger, codes=codes, task_id=task_id)
    except SweepBusy:
        # Two beats, or a run slower than its period: the running one goes on. A skipped
        # sweep is worth a look (a stuck lock skips every night), so WARNING and a record.
        runs = sweep_skipped_record(trigger=trigger, codes=codes, task_id=task_id)
        logger.warning(
            "retention: another sweep holds the lock; this run did not start (runs %s)", [r.pk for r in runs]
        )
        return
    logger.info("retention: %s policy runs, ids %s", len(outcome.runs), [r.pk for r in outcome.runs])
