"""Settings for bench_portal's gunicorn and worker: production, plus one bare view (portal_urls).

Named without the bench_ prefix, so that bench/run.py does not run it as a benchmark.
"""

from __future__ import annotations

from config.settings.production import *  # noqa: F403

ROOT_URLCONF = "portal_urls"

# The bench's worker takes its own queue, tasks it queues itself included (the emails),
# so nothing is left behind for another worker on the same Redis.
CELERY_TASK_DEFAULT_QUEUE = env.str("BENCH_PORTAL_QUEUE", default="celery")  # noqa: F405
