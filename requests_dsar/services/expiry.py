"""What the request workflow deletes once its purpose is over (Art. 5(1)(e))."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from core.audit import Actor, audit_record

from .base import Request, Status, _setting


def requests_unconfirmed_purge(*, older_than_days: int | None = None) -> int:
    """Delete requests never confirmed: we cannot know they came from the person (Art. 5(1)(e))."""
    days = older_than_days if older_than_days is not None else _setting("DSAR_UNCONFIRMED_KEEP_DAYS", 30)
    cutoff = timezone.now() - timedelta(days=days)
    with transaction.atomic():
        ids = list(
            Request.objects.filter(status=Status.RECEIVED, submitted_at__lt=cutoff).values_list(
                "pk", flat=True
            )
        )
        Request.objects.filter(pk__in=ids).delete()
        if ids:
            audit_record(
                actor=Actor.system("dsar.purge"),
                action="dsar.purge_unconfirmed",
                target_type="requests_dsar.datasubjectrequest",
                target_id=len(ids),
            )
    return len(ids)
