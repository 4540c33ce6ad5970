"""Rate limits per client, counted in the cache (Redis in production) so that every
web process shares one count; a refusal is a 429 with Retry-After."""

from __future__ import annotations

import time
from typing import Any

from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from .models import ApiClient

WINDOW_SECONDS = 60


class ClientRateThrottle(BaseThrottle):
    """A fixed one-minute window per client: ``ApiClient.rate_limit`` calls."""

    def allow_request(self, request: Request, view: Any) -> bool:
        client = request.user
        if not isinstance(client, ApiClient):
            return True  # authentication refuses these anyway
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        key = f"api:rate:{client.pk}:{window}"
        # add() is atomic: the first call of the window creates the counter.
        cache.add(key, 0, timeout=WINDOW_SECONDS + 5)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=WINDOW_SECONDS + 5)
            count = 1
        self._wait = (window + 1) * WINDOW_SECONDS - now
        return count <= client.rate_limit

    def wait(self) -> float | None:
        return max(1.0, getattr(self, "_wait", WINDOW_SECONDS))
