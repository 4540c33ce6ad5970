"""Settings for bench_portal's gunicorn: production, plus one bare view (bench_portal_urls)."""

from __future__ import annotations

from config.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench_portal_urls"

# The bench's worker takes its own queue, tasks it queues itself included (the emails),
# so nothing is left behind for another worker on the same Redis.
CELERY_TASK_DEFAULT_QUEUE = env.str("BENCH_PORTAL_QUEUE", default="celery")  # noqa: F405
