"""Reads of the API: what a client may see, and the bulk suppression check."""

from __future__ import annotations

from collections.abc import Sequence

from consent.models import SuppressionEntry
from core.crypto import email_hash
from requests_dsar.models import DataSubjectRequest

from .models import ApiClient, FiledRequest, ImportJob, WebhookSubscription

CHUNK = 5000


def import_job_for_client(*, client: ApiClient, job_id: int) -> ImportJob | None:
    """A client sees only its own imports."""
    return ImportJob.objects.filter(pk=job_id, client=client).first()


def filed_request_for_client(*, client: ApiClient, reference: str) -> DataSubjectRequest | None:
    """A client reads only the requests it filed itself."""
    filed = (
        FiledRequest.objects.select_related("request")
        .filter(client=client, request__reference=reference)
        .first()
    )
    return filed.request if filed else None


def emails_suppressed(*, emails: Sequence[str]) -> list[bool]:
    """For each address, in order: is it on the suppression list (by its keyed hash)?"""
    hashes = [email_hash(e, purpose=SuppressionEntry.SUPPRESSION_PURPOSE) for e in emails]
    found: set[str] = set()
    for start in range(0, len(hashes), CHUNK):
        chunk = hashes[start : start + CHUNK]
        found.update(
            SuppressionEntry.objects.filter(email_hash__in=chunk).values_list("email_hash", flat=True)
        )
    return [h in found for h in hashes]


def subscriptions_for_client(*, client: ApiClient) -> list[WebhookSubscription]:
    return list(WebhookSubscription.objects.filter(client=client, is_active=True).order_by("pk"))


def subscription_for_client(*, client: ApiClient, subscription_id: int) -> WebhookSubscription | None:
    """A client reaches only its own, active subscriptions."""
    return WebhookSubscription.objects.filter(pk=subscription_id, client=client, is_active=True).first()
