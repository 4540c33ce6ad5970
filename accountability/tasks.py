"""Doors for the scheduled jobs: each calls one service and is safe to run twice."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from . import services
from .models import BreachCommunication


@shared_task(ignore_result=True)
def recipients_send_reminders() -> None:
    """Daily: agreements due for review within 30 days, and transfers without a mechanism (Art. 28, 44)."""
    services.recipients_send_reminders()


@shared_task(ignore_result=True)
def breaches_send_reminders() -> None:
    """Every 15 minutes: the 24, 48 and 68-hour reminders of a running 72-hour clock (Art. 33(1))."""
    services.breaches_send_reminders()


@shared_task(ignore_result=True, autoretry_for=(OSError,), retry_backoff=60, max_retries=5)
def breach_communication_send(
    communication_id: int, batch_size: int | None = None, pause_seconds: float = 0
) -> None:
    """One batch of an Art. 34 message, then the next batch as a new task.

    Small tasks let a stopped worker resume where it was: the next batch is
    still in the queue, and ``breach_communications_resume`` restarts any
    message whose chain was lost.
    """
    size = batch_size or settings.BREACH_COMMUNICATION_BATCH_SIZE
    _sent, finished = services.breach_communication_batch(communication_id=communication_id, batch_size=size)
    if not finished:
        breach_communication_send.apply_async(
            kwargs={"communication_id": communication_id, "batch_size": size, "pause_seconds": pause_seconds},
            countdown=pause_seconds or None,
        )


@shared_task(ignore_result=True)
def breach_communications_resume() -> None:
    """Every 15 minutes: (re)start each Art. 34 message still sending, so none is left half-told."""
    for pk in BreachCommunication.objects.filter(status=BreachCommunication.Status.SENDING).values_list(
        "pk", flat=True
    ):
        breach_communication_send.delay(communication_id=pk)


@shared_task(ignore_result=True)
def processing_record_snapshot() -> None:
    """Daily: keep a version of the records of processing if anything changed (Art. 30 as at a date)."""
    services.processing_record_snapshot()


@shared_task(ignore_result=True)
def dashboard_refresh() -> None:
    """Every 10 minutes: the dashboard's aggregates, so a page view never scans the ledgers."""
    services.dashboard_refresh()
