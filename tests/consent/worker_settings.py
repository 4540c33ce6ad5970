"""Settings of the worker ``restartable_worker`` starts: the test worker's, with its private queue
as the default, so tasks the worker itself enqueues (the campaign's next batch) stay on that queue."""

from __future__ import annotations

import os

from config.settings.test_worker import *  # noqa: F403

CELERY_TASK_DEFAULT_QUEUE = os.environ["CONSENT_TEST_QUEUE"]
