"""Production: refuses to start with DEBUG on or without real secrets."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from core.logging import logging_config

from .base import *  # noqa: F403
from .base import DEBUG, HASH_KEY, LOG_LEVEL, SECRET_KEY, env

_WEAK_KEYS = {"", "change-me", "changeme", "secret"}

if DEBUG:
    raise ImproperlyConfigured("DEBUG must be off in production.")
if not SECRET_KEY or SECRET_KEY in _WEAK_KEYS or len(SECRET_KEY) < 32:
    raise ImproperlyConfigured("SECRET_KEY must be set to a random value of 32 characters or more.")
if not HASH_KEY or HASH_KEY in _WEAK_KEYS or len(HASH_KEY) < 32 or HASH_KEY == SECRET_KEY:
    raise ImproperlyConfigured(
        "HASH_KEY must be set to a random value of 32 characters or more, unlike SECRET_KEY."
    )

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env("SECURE_SSL_REDIRECT")
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
# hardening: every subdomain is HTTPS-only too and the domain may be preloaded in
# browsers (check --deploy W005, W021); a deployment whose subdomains still serve
# plain HTTP turns these off in its environment.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env("SECURE_HSTS_INCLUDE_SUBDOMAINS")
SECURE_HSTS_PRELOAD = env("SECURE_HSTS_PRELOAD")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_REFERRER_POLICY = "same-origin"
# The container's own health check calls http://127.0.0.1:8000/healthz over plain HTTP;
# everything else is redirected to HTTPS unless the proxy says it came over HTTPS
# (SECURE_PROXY_SSL_HEADER: the documented proxy sets X-Forwarded-Proto).
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "127.0.0.1", "localhost"]  # noqa: F405

# hardening: one JSON object per log line (core/logging.py).
LOGGING = logging_config(json=True, level=LOG_LEVEL)
