"""Periodic tasks declared in code, stored where staff can see and change them.

django-celery-beat's own sync from ``beat_schedule`` overwrites the database
on every start, which would undo a schedule a privacy officer changed in the
admin. Here each declared task is created once, after migrate, and left alone
afterwards.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings


def sync_periodic_tasks(**kwargs: Any) -> None:
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

    for name, spec in getattr(settings, "PERIODIC_TASKS", {}).items():
        if PeriodicTask.objects.filter(name=name).exists():
            continue
        schedule: dict[str, Any] = {}
        if "crontab" in spec:
            crontab, _ = CrontabSchedule.objects.get_or_create(timezone=settings.TIME_ZONE, **spec["crontab"])
            schedule["crontab"] = crontab
        else:
            interval, _ = IntervalSchedule.objects.get_or_create(
                every=spec["every_seconds"], period=IntervalSchedule.SECONDS
            )
            schedule["interval"] = interval
        PeriodicTask.objects.create(
            name=name,
            task=spec["task"],
            kwargs=json.dumps(spec.get("kwargs", {})),
            description=spec.get("description", ""),
            **schedule,
        )
