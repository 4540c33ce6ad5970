"""Settings for the test suite: SQLite unless DATABASE_URL says otherwise."""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

from .base import *  # noqa: F403
from .base import env

SECRET_KEY = "test-secret-key"
HASH_KEY = "test-hash-key"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Tasks run in the test process unless a test asks for the real worker
# (tests/conftest.py: `celery_worker_process`), which switches this off.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
# staff-roles: tests log in with force_login; tests/staff switch two-factor login on.
STAFF_2FA_REQUIRED = False
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
REAL_REDIS = bool(env("REDIS_URL"))

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not memory, so that a real Celery worker process can share it.
    # One file per run, so that parallel runs on one machine do not collide.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}  # noqa: F405

if REDIS_URL:  # noqa: F405
    # The cache gets a Redis database of its own, so that emptying it between
    # tests (tests/conftest.py) never flushes the Celery broker's queues.
    _redis = urlsplit(REDIS_URL)  # noqa: F405
    _db = int(_redis.path.strip("/") or 0)
    CACHES["default"]["LOCATION"] = urlunsplit(_redis._replace(path=f"/{(_db + 8) % 16}"))  # noqa: F405
