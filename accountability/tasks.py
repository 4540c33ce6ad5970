"""Doors for the scheduled jobs: each calls one service and is safe to run twice."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def recipients_send_reminders() -> None:
    """Daily: agreements due for review within 30 days, and transfers without a mechanism (Art. 28, 44)."""
    services.recipients_send_reminders()
