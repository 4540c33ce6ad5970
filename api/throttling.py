"""Rate limits per client, counted in the cache (Redis in production) so that every
web process shares one count; a refusal is a 429 with Retry-After."""

from __future__ import annotations

import time
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from .models import ApiClient

WINDOW_SECONDS = 60
# The counter outlives its window a little, so a slow clock at the edge never resets it early.
COUNTER_TTL = WINDOW_SECONDS + 5


def _redis(backend: RedisCache) -> Any:
    """The backend's Redis client, built once per backend (a web process's thread), not per call.

    Django builds a new client object on every cache call; it shares the connection pool,
    and its construction cost as much as the round trip itself.
    """
    client = getattr(backend, "_api_throttle_client", None)
    if client is None:
        client = backend._cache.get_client(None, write=True)
        backend._api_throttle_client = client
    return client


def _count_call(key: str) -> int:
    """Count one call in the window and return the count so far (atomic across processes)."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        # One round trip, on every call of every client: SET NX creates the window's
        # counter with its expiry, INCR counts, pipelined. Django's add() and incr()
        # would take three (incr checks EXISTS first).
        full = backend.make_and_validate_key(key)
        with _redis(backend).pipeline(transaction=False) as pipe:
            pipe.set(full, 0, ex=COUNTER_TTL, nx=True)
            pipe.incr(full)
            _created, count = pipe.execute()
        return int(count)
    # Other caches (development, tests without Redis): add() is atomic; the first call creates the counter.
    backend.add(key, 0, timeout=COUNTER_TTL)
    try:
        return backend.incr(key)
    except ValueError:  # expired between add and incr
        backend.add(key, 1, timeout=COUNTER_TTL)
        return 1


class ClientRateThrottle(BaseThrottle):
    """A fixed one-minute window per client: ``ApiClient.rate_limit`` calls."""

    def allow_request(self, request: Request, view: Any) -> bool:
        client = request.user
        if not isinstance(client, ApiClient):
            return True  # authentication refuses these anyway
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        count = _count_call(f"api:rate:{client.pk}:{window}")
        self._wait = (window + 1) * WINDOW_SECONDS - now
        return count <= client.rate_limit

    def wait(self) -> float | None:
        return max(1.0, getattr(self, "_wait", WINDOW_SECONDS))
