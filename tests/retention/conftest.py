"""A real Celery worker that a test may kill with SIGKILL, pool process or whole worker."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from config.celery_app import app as celery_app
from tests.conftest import ROOT, _database_url


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces: the parent pid is the 2nd field after ")".
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


@dataclass
class KillableWorker:
    queue: str
    env: dict[str, str]
    log_dir: Path
    processes: list[subprocess.Popen] = field(default_factory=list)

    @property
    def process(self) -> subprocess.Popen:
        return self.processes[-1]

    def start(self) -> subprocess.Popen:
        name = f"{self.queue}-{len(self.processes)}"
        log = open(self.log_dir / f"{name}.log", "w")  # noqa: SIM115
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", self.queue, "-c", "1",
             "-P", "prefork", "--loglevel=INFO", "-n", f"{name}@%h", "--without-mingle", "--without-gossip"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            # Its own process group, so the whole worker (pool included) can be killed at once.
            start_new_session=True,
        )  # fmt: skip
        self.processes.append(process)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"the Celery worker exited at start: see {log.name}")
            if celery_app.control.ping(destination=[f"{name}@{os.uname().nodename}"], timeout=0.5):
                return process
        pytest.fail("the Celery worker did not answer within 30 s")

    def pool_pids(self) -> list[int]:
        return _children(self.process.pid)

    def kill_pool_process(self) -> int:
        """SIGKILL the pool process running the task; the worker itself lives on."""
        (pid,) = self.pool_pids()
        os.kill(pid, signal.SIGKILL)
        return pid

    def kill_whole_worker(self) -> None:
        """SIGKILL the worker and its pool at once: nothing gets to clean up or acknowledge."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


@pytest.fixture
def killable_worker(django_db_setup, django_db_blocker, transactional_db) -> Iterator[KillableWorker]:
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs Redis and a real worker: set REDIS_URL (CI does)")
    queue = f"retention-{uuid.uuid4().hex[:8]}"
    log_dir = Path(tempfile.mkdtemp(prefix="personvern-retention-worker-"))
    with django_db_blocker.unblock():
        database_url = _database_url()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.retention.worker_settings",
        "DATABASE_URL": database_url,
        "TEST_WORKER_MAIL_DIR": str(log_dir),
    }
    worker = KillableWorker(queue=queue, env=env, log_dir=log_dir)
    previous = (celery_app.conf.task_always_eager, celery_app.conf.task_default_queue)
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = queue
    try:
        yield worker
    finally:
        celery_app.conf.task_always_eager, celery_app.conf.task_default_queue = previous
        for process in worker.processes:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        # Let no message of this test wait in Redis for a later one.
        try:
            with celery_app.connection_for_write() as connection:
                connection.default_channel.queue_purge(queue)
        except Exception:
            pass


@pytest.fixture(autouse=True)
def _english():
    """Messages are asserted in English here; test_policies checks the bokmål catalogue once."""
    from django.utils import translation

    with translation.override("en"):
        yield
