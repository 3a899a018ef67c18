"""The shared cache (throttle counts, the dashboard) in Redis, and what happens when Redis is
down: nothing that needs it fails.

Every read answers as a miss and every write is dropped while Redis cannot be reached, so
throttling fails open (no request is refused for want of a count), sign-in keeps working (the
lockouts of django-axes are rows in the database, not cache entries) and the dashboard is
computed afresh. The first failure is logged; the process then leaves Redis alone for
`PAUSE_SECONDS` (a refused connection fails at once, but a hung Redis would cost every request
its socket timeout), logs again when it tries again and it still fails, and says when Redis is
back.

`clear` deletes the cache's own keys (its KEY_PREFIX), not the whole Redis database, which it
may share with Celery's queue.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from time import monotonic
from typing import Any, TypeVar

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

PAUSE_SECONDS = 5.0

# Per Redis location (a test may point a cache at a dead port without pausing the real one):
# until when this process leaves it alone.
_paused_until: dict[str, float] = {}

F = TypeVar("F", bound=Callable[..., Any])


def _quietly(when_down: Callable[..., Any]) -> Callable[[F], F]:
    """Run the cache operation; while Redis is unreachable answer `when_down(*args)` instead."""

    def decorate(operation: F) -> F:
        @wraps(operation)
        def guarded(self: ResilientRedisCache, *args: Any, **kwargs: Any) -> Any:
            if _paused_until.get(self.location, 0.0) > monotonic():
                return when_down(*args, **kwargs)
            try:
                result = operation(self, *args, **kwargs)
            except RedisError:
                _paused_until[self.location] = monotonic() + PAUSE_SECONDS
                log.warning(
                    "Redis (the cache) is unreachable: throttling is not enforced and the "
                    "dashboard is not cached; trying again in %d s.",
                    PAUSE_SECONDS,
                    exc_info=True,
                )
                return when_down(*args, **kwargs)
            if _paused_until.pop(self.location, None) is not None:
                log.warning("Redis (the cache) is reachable again.")
            return result

        return guarded  # type: ignore[return-value]

    return decorate


def _default(key: str, default: Any = None, *args: Any, **kwargs: Any) -> Any:
    return default


def _answer(value: Any) -> Callable[..., Any]:
    return lambda *args, **kwargs: value() if callable(value) else value


def _unset_keys(data: dict[str, Any], *args: Any, **kwargs: Any) -> list[str]:
    return list(data)


class ResilientRedisCache(RedisCache):
    """Django's Redis cache that never raises because Redis is down (see the module)."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self.location = server

    get = _quietly(_default)(RedisCache.get)
    set = _quietly(_answer(None))(RedisCache.set)
    add = _quietly(_answer(False))(RedisCache.add)
    touch = _quietly(_answer(False))(RedisCache.touch)
    delete = _quietly(_answer(False))(RedisCache.delete)
    has_key = _quietly(_answer(False))(RedisCache.has_key)
    get_many = _quietly(_answer(dict))(RedisCache.get_many)
    set_many = _quietly(_unset_keys)(RedisCache.set_many)
    delete_many = _quietly(_answer(None))(RedisCache.delete_many)
    # `incr`, `decr` and `clear` still raise: nothing in a request uses them, and a command or
    # test that empties the cache should hear that it could not.

    def clear(self) -> None:
        """Delete this cache's keys, and only them: Django's `clear` empties the whole Redis
        database (FLUSHDB), which would drop Celery's queue too where the two share one."""
        client = self._cache.get_client(write=True)  # type: ignore[attr-defined]
        batch: list[bytes] = []
        for key in client.scan_iter(match=f"{self.key_prefix}:*", count=1000):
            batch.append(key)
            if len(batch) == 1000:
                client.delete(*batch)
                batch = []
        if batch:
            client.delete(*batch)
