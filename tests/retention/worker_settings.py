"""Settings of the killable worker (tests/retention/conftest.py): small batches with a pause
between them, so a test can kill the worker in the middle of a sweep, and a short lock lease,
so the next run does not wait long for the killed one's lock."""

from __future__ import annotations

import os

from config.settings.test_worker import *  # noqa: F403

RETENTION_BATCH_SIZE = 4
RETENTION_BATCH_PAUSE_SECONDS = 0.4
# A test of the redelivered task's take-over sets a long lease, so that waiting it out is no way.
RETENTION_LOCK_LEASE_SECONDS = int(os.environ.get("TEST_RETENTION_LOCK_LEASE_SECONDS", "2"))
# The time limit stays shorter than the visibility timeout, as in production.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 60}
CELERY_TASK_TIME_LIMIT = 40
CELERY_TASK_SOFT_TIME_LIMIT = 30
