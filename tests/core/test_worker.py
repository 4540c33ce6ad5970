from __future__ import annotations

from core.models import WorkerHeartbeat
from core.tasks import heartbeat
from tests.conftest import wait_for


def test_a_task_really_runs_on_the_celery_worker(celery_worker):
    heartbeat.delay(name="from-test")
    beat = wait_for(lambda: WorkerHeartbeat.objects.filter(name="from-test").first())
    assert beat.seen_at is not None


def test_periodic_tasks_are_declared_for_the_beat(db):
    from django.core.management import call_command
    from django_celery_beat.models import PeriodicTask

    call_command("migrate", verbosity=0)  # post_migrate creates the declared schedules
    task = PeriodicTask.objects.get(name="worker heartbeat")
    assert task.task == "core.tasks.heartbeat" and task.enabled
