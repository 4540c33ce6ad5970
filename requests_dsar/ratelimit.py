"""Fixed-window rate limits in Django's cache (Redis in production), shared by every web process."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache

from core.crypto import keyed_hash


def _limit(name: str) -> tuple[int, int]:
    """(how many, per how many seconds) from settings.DSAR_RATE_LIMITS."""
    defaults = {
        "submit_ip": (10, 3600),
        "submit_email": (3, 3600),
        "verify_ip": (20, 3600),
        "verify_email": (10, 3600),
        "link_ip": (30, 3600),
        # consent-authority: the public sign-up form (consent.views.subscribe).
        "signup_ip": (10, 3600),
        "signup_email": (3, 3600),
    }
    return getattr(settings, "DSAR_RATE_LIMITS", {}).get(name, defaults[name])


def rate_limit_hit(name: str, key: str) -> bool:
    """Count one attempt; True when the limit is already used up. The key is hashed, never stored."""
    allowed, window = _limit(name)
    # One counter per fixed window: the window's number is part of the key, so
    # a counter never outlives its window, whatever the cache's clock.
    bucket = int(time.time() // window)
    cache_key = f"dsar-rl:{name}:{bucket}:{keyed_hash(key or '-', purpose='rate-limit')}"
    if cache.add(cache_key, 1, timeout=window):
        return False
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.add(cache_key, 1, timeout=window)
        return False
    return count > allowed
