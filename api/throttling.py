"""Rate limits per client, counted in the cache (Redis in production) so that every
web process shares one count; a refusal is a 429 with Retry-After."""

from __future__ import annotations

import hashlib
import time
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import NoScriptError
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


# Count, and give a new window's counter its expiry, in one command run atomically by Redis.
_COUNT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""
_COUNT_SHA = hashlib.sha1(_COUNT_SCRIPT.encode()).hexdigest()  # noqa: S324 (Redis names scripts by SHA-1)


def _count_call(key: str) -> int:
    """Count one call in the window and return the count so far (atomic across processes)."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        # One round trip and one command, on every call of every client: the script is
        # known to Redis by its hash after the first call (EVALSHA). Django's add() and
        # incr() took three round trips (incr checks EXISTS first); a pipeline of SET NX EX
        # and INCR took one, but cost twice the client's CPU (issue 10).
        full = backend.make_and_validate_key(key)
        client = _redis(backend)
        try:
            count = client.execute_command("EVALSHA", _COUNT_SHA, 1, full, COUNTER_TTL)
        except NoScriptError:  # a restarted or flushed Redis: EVAL loads it again
            count = client.execute_command("EVAL", _COUNT_SCRIPT, 1, full, COUNTER_TTL)
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
