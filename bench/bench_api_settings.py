"""Settings for bench_api's gunicorn: the local settings plus one bare DRF view."""

from __future__ import annotations

from config.settings.local import *  # noqa: F403

ROOT_URLCONF = "bench_api_urls"
