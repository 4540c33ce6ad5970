"""Doors for the scheduled jobs: each takes ids, calls one service, and is safe to run twice."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from . import selectors, services


@shared_task(ignore_result=True, autoretry_for=(OSError,), retry_backoff=60, max_retries=5)
def notice_campaign_send(notice_id: int, batch_size: int | None = None, pause_seconds: float = 0) -> None:
    """One batch of a material-change campaign, then the next batch as a new task.

    Small tasks let a stopped worker resume where it was: the next batch is
    still in the queue, and ``notice_campaigns_resume`` restarts any campaign
    whose chain was lost.
    """
    size = batch_size or settings.CONSENT_NOTICE_BATCH_SIZE
    _sent, finished = services.notice_campaign_batch(notice_id=notice_id, batch_size=size)
    if not finished:
        notice_campaign_send.apply_async(
            kwargs={"notice_id": notice_id, "batch_size": size, "pause_seconds": pause_seconds},
            countdown=pause_seconds or None,
        )


@shared_task(ignore_result=True)
def notice_campaigns_resume() -> None:
    """Hourly: (re)start the campaign of every material change not yet in force and not finished."""
    for notice_id in selectors.notices_with_campaign_due().values_list("pk", flat=True):
        notice_campaign_send.delay(notice_id=notice_id)


@shared_task(ignore_result=True, autoretry_for=(OSError,), retry_backoff=60, max_retries=5)
def art14_notices_send(limit: int = 500) -> None:
    """Daily: the Art. 14 notice to contacts we got from someone else, in batches until done."""
    while services.art14_notices_send(limit=limit) == limit:
        pass


@shared_task(ignore_result=True)
def consent_confirmations_expire() -> None:
    """Daily: web sign-ups not confirmed in time are deleted (they never were consents)."""
    services.consent_confirmations_expire()


@shared_task(ignore_result=True, autoretry_for=(OSError,), retry_backoff=30, max_retries=5)
def signup_confirmation_send(signup_id: int, token: str) -> None:
    """Email a web sign-up its confirmation link, after the form has answered."""
    services.signup_confirmation_send(signup_id=signup_id, token=token)
