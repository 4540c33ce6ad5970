"""Doors for the API's background work: each takes ids and calls one service."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from . import imports, services
from .models import ImportJob

logger = logging.getLogger("api")
FAILED = "The import failed on our side; nothing was written."


@shared_task(ignore_result=True)
def import_job_run(job_id: int) -> None:
    """Run one bulk import (safe to run twice: the job is claimed by a conditional UPDATE)."""
    try:
        imports.import_job_run(job_id=job_id)
    except Exception:
        # The job must not stay "running" forever; the log names the job, not its rows.
        logger.exception("api.import_failed job=%s", job_id)
        ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.RUNNING).update(
            status=ImportJob.Status.REJECTED, payload="", finished_at=timezone.now(),
            errors=[{"row": 0, "field": "", "message": FAILED}],
        )  # fmt: skip
        raise


@shared_task(ignore_result=True)
def idempotency_forget() -> None:
    """Daily: forget the stored answers of POSTs older than a day (they may hold personal data)."""
    services.idempotency_forget()


@shared_task(ignore_result=True)
def webhook_deliver(delivery_id: int) -> None:
    """One attempt at one delivery (claimed, so a duplicate task does nothing)."""
    from .webhooks import services as webhooks

    webhooks.delivery_attempt(delivery_id=delivery_id)


@shared_task(ignore_result=True)
def webhooks_deliver_due() -> None:
    """Every minute: queue the deliveries whose retry has come, and those a stopped worker lost."""
    from .webhooks import services as webhooks

    for delivery_id in webhooks.deliveries_due():
        webhook_deliver.delay(delivery_id)
