"""Shared fixtures: personas, and a real Celery worker for the tests that need one."""

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
from django.db import connection
from django.utils.functional import empty

from config.celery_app import app as celery_app

ROOT = Path(__file__).resolve().parent.parent

needs_postgres = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")),
    reason="needs PostgreSQL: set DATABASE_URL=postgres://... (CI does)",
)
needs_redis = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="needs Redis and a real worker: set REDIS_URL (CI does)"
)


@pytest.fixture
def staff_user(django_user_model):
    """A privacy officer: staff with every permission."""
    return django_user_model.objects.create_superuser("personvernombud", "dpo@example.no", "pw")


@pytest.fixture
def colleague(django_user_model):
    """Staff, but without permissions on the register."""
    return django_user_model.objects.create_user("kollega", "kollega@example.no", "pw", is_staff=True)


@pytest.fixture
def stranger(django_user_model):
    """Logged in, not staff."""
    return django_user_model.objects.create_user("fremmed", "fremmed@example.no", "pw")


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture(autouse=True)
def _empty_cache():
    """Rate-limit counters and other cached state never leak from one test to the next."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _english_unless_asked():
    """Code outside a request speaks English in tests; tests of bokmål ask for it.

    Requests follow the person's language as in production (LocaleMiddleware:
    bokmål unless the browser asks for English).
    """
    from django.utils import translation

    with translation.override("en"):
        yield


def _database_url() -> str:
    params = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{params['NAME']}"
    user = params.get("USER") or "postgres"
    host = params.get("HOST") or "127.0.0.1"
    port = params.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{params['NAME']}"


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker) -> Iterator[dict[str, object]]:
    """A real `celery worker` process on the test database and a private queue on Redis."""
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs Redis and a real worker: set REDIS_URL (CI does)")
    queue = f"test-{uuid.uuid4().hex[:8]}"
    mail_dir = tempfile.mkdtemp(prefix="personvern-mail-")
    with django_db_blocker.unblock():
        database_url = _database_url()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test_worker",
        "DATABASE_URL": database_url,
        "TEST_WORKER_MAIL_DIR": mail_dir,
        "TEST_WORKER_QUEUE": queue,
    }
    log = open(Path(mail_dir) / "worker.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue, "-c", "2",
         "--loglevel=INFO", "-n", f"{queue}@%h", "--without-mingle", "--without-gossip"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the Celery worker exited at start: see {log.name}")
        replies = celery_app.control.ping(destination=[f"{queue}@{os.uname().nodename}"], timeout=0.5)
        if replies:
            break
    else:
        process.kill()
        pytest.fail("the Celery worker did not answer within 30 s")
    yield {"process": process, "queue": queue, "mail_dir": Path(mail_dir), "env": env}
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture
def celery_worker(
    celery_worker_process, transactional_db, django_db_serialized_rollback
) -> Iterator[dict[str, object]]:
    """Send tasks to the real worker for this test (rows must be committed for it to see them).

    Serialized rollback: without it the flush after the test re-creates content types
    under new ids, and the next test that restores the serialized database clashes.
    """
    previous = (celery_app.conf.task_always_eager, celery_app.conf.task_default_queue)
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = celery_worker_process["queue"]
    yield celery_worker_process
    celery_app.conf.task_always_eager, celery_app.conf.task_default_queue = previous


def wait_for(predicate, *, timeout: float = 20.0, interval: float = 0.1):
    """Poll until ``predicate()`` is truthy; return its value or fail the test."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"gave up waiting after {timeout} s")


@pytest.fixture(autouse=True)
def _private_media(tmp_path, settings):
    from subjects.models import private_storage

    settings.PRIVATE_MEDIA_ROOT = str(tmp_path / "private")
    # Reset the lazy storage, so each test's files land in its own folder.
    private_storage._wrapped = empty
    yield
    private_storage._wrapped = empty


def _plain_transactional(item: pytest.Item) -> bool:
    """A test on a really committing database whose tables are not restored from the serialized copy."""
    names = set(getattr(item, "fixturenames", ()))
    marker = item.get_closest_marker("django_db")
    kwargs = marker.kwargs if marker else {}
    transactional = bool(names & {"transactional_db", "live_server"}) or kwargs.get("transaction", False)
    serialized = "django_db_serialized_rollback" in names or kwargs.get("serialized_rollback", False)
    return transactional and not serialized


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    """After a plain transactional test, empty the tables once more, without post_migrate.

    Django's flush after such a test runs post_migrate, which re-creates content
    types (and the periodic tasks) under new ids; the next test that restores the
    serialized database then clashes with them on their unique names.
    """
    yield
    if not _plain_transactional(item):
        return
    from django.core.management import call_command
    from pytest_django.plugin import blocking_manager_key

    with item.config.stash[blocking_manager_key].unblock():
        # reset_sequences=False: restarting the sequences would hand the next test that restores the
        # serialized rows (a notice, the recipients) their ids again, and its first insert clashes.
        call_command(
            "flush", interactive=False, inhibit_post_migrate=True, reset_sequences=False, verbosity=0
        )
