"""Local development and the `make run` demo: SQLite and the filesystem broker by default."""

from __future__ import annotations

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
# For the local demo only; production refuses to start without real keys.
SECRET_KEY = env("SECRET_KEY") or "local-demo-secret-key-not-for-production"
HASH_KEY = env("HASH_KEY") or "local-demo-hash-key-not-for-production"
# staff-roles: the demo logs in with a password alone; production requires two-factor login.
STAFF_2FA_REQUIRED = env.bool("STAFF_2FA_REQUIRED", default=False)
