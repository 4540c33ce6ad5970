"""The daily sweep, as a Celery task (its schedule: PERIODIC_TASKS in config/settings/base.py).

Safe to retry by construction: acks_late with reject_on_worker_lost (settings)
requeue a task whose worker died, the lock keeps two runs from sweeping at
once, and every batch is its own transaction, so a redelivered or overlapping
run finds exactly what is still due.
"""

from __future__ import annotations

import logging

from celery import shared_task

from .models import SweepRun
from .services import SweepBusy, retention_sweep

logger = logging.getLogger(__name__)


@shared_task(
    name="retention.tasks.retention_sweep", ignore_result=True, acks_late=True, reject_on_worker_lost=True
)
def retention_sweep_task(codes: list[str] | None = None, trigger: str = SweepRun.Trigger.SCHEDULE) -> None:
    try:
        outcome = retention_sweep(trigger=trigger, codes=codes)
    except SweepBusy:
        # Two beats, or a run slower than its period: the running one goes on.
        logger.info("retention: another sweep holds the lock; this run did not start")
        return
    logger.info("retention: %s policy runs, ids %s", len(outcome.runs), [r.pk for r in outcome.runs])
