"""System checks for the settings that make the retention sweep safe to retry."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.compatibility)
def check_sweep_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    visibility = (getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}) or {}).get("visibility_timeout")
    limit = getattr(settings, "CELERY_TASK_TIME_LIMIT", None)
    if visibility is not None and (limit is None or limit >= visibility):
        # Redis redelivers an unacknowledged message after the visibility timeout:
        # a sweep still running then would run twice at once.
        errors.append(
            checks.Error(
                "CELERY_TASK_TIME_LIMIT must be shorter than the broker's visibility_timeout.",
                id="retention.E001",
            )
        )
    for name in ("CELERY_TASK_ACKS_LATE", "CELERY_TASK_REJECT_ON_WORKER_LOST"):
        if not getattr(settings, name, False):
            errors.append(
                checks.Error(f"{name} must be on: a lost deletion job must be requeued.", id="retention.E002")
            )
    if not 0 < float(getattr(settings, "RETENTION_MAX_SHARE", 0)) <= 1:
        errors.append(
            checks.Error("RETENTION_MAX_SHARE must be a share above 0 and at most 1.", id="retention.E003")
        )
    return errors
