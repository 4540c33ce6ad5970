"""A real Celery worker this app's tests can stop halfway and start again."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.celery_app import app as celery_app
from tests.conftest import ROOT, _database_url


class RestartableWorker:
    def __init__(self, *, queue: str, env: dict[str, str], mail_dir: Path) -> None:
        self.queue = queue
        self.env = env
        self.mail_dir = mail_dir
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        node = f"{self.queue}-{self.starts}"
        log = open(self.mail_dir / f"worker-{self.starts}.log", "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", self.queue, "-c", "2",
             "--loglevel=INFO", "-n", f"{node}@%h", "--without-mingle", "--without-gossip"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the Celery worker exited at start: see {log.name}")
            if celery_app.control.ping(destination=[f"{node}@{os.uname().nodename}"], timeout=0.5):
                return
        self.process.kill()
        pytest.fail("the Celery worker did not answer within 30 s")

    def stop(self) -> None:
        """A warm shutdown (SIGTERM): the task in hand finishes, queued work stays queued."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def restartable_worker(
    django_db_setup, django_db_blocker, django_db_serialized_rollback, transactional_db
) -> Iterator[RestartableWorker]:
    # Serialised rollback: the purposes and notice seeded by migrations survive the flush.
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs Redis and a real worker: set REDIS_URL (CI does)")
    queue = f"test-consent-{uuid.uuid4().hex[:8]}"
    mail_dir = Path(tempfile.mkdtemp(prefix="personvern-consent-mail-"))
    with django_db_blocker.unblock():
        database_url = _database_url()
    env = {
        **os.environ,
        # The test worker's settings with this queue as the default (tests/consent/worker_settings.py).
        "DJANGO_SETTINGS_MODULE": "tests.consent.worker_settings",
        "CONSENT_TEST_QUEUE": queue,
        "DATABASE_URL": database_url,
        "TEST_WORKER_MAIL_DIR": str(mail_dir),
    }
    worker = RestartableWorker(queue=queue, env=env, mail_dir=mail_dir)
    previous = (celery_app.conf.task_always_eager, celery_app.conf.task_default_queue)
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = queue
    yield worker
    worker.stop()
    # Drop what the stopped worker left queued (a campaign's next batch), so nothing lingers in Redis.
    with celery_app.connection_for_write() as connection:
        connection.default_channel.queue_purge(queue)
    celery_app.conf.task_always_eager, celery_app.conf.task_default_queue = previous
