"""The real Celery worker that tests start (tests/conftest.py): test settings, but tasks
really go through the broker, and email lands in files the test can read."""

from __future__ import annotations

from core.logging import logging_config

from .base import env
from .test import *  # noqa: F403

CELERY_TASK_ALWAYS_EAGER = False
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = env("TEST_WORKER_MAIL_DIR")
# Tasks the worker queues itself (an email queued by a task) go to the test's private queue,
# the only one this worker consumes.
CELERY_TASK_DEFAULT_QUEUE = env.str("TEST_WORKER_QUEUE", default="celery")
# The worker logs as production's does (core.logging: scrubbed, one JSON object a line), so
# that tests read what a production worker would write (tests/hardening/test_logs.py).
LOGGING = logging_config(json=True, level="INFO")
