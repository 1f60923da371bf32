"""A rate limiter shared by every worker: a sliding log per portal and limit, kept in the Django cache.

The cache is Redis in production, so every Celery worker process (and thread) draws from the same budget; the
embedded default's local-memory cache shares it between the threads of one process. HubSpot counts requests per
app and portal in a rolling window (about 100-190 per 10 s; search about 4-5 per second), so a strict sliding log
is used rather than a token bucket, which would allow up to twice the limit in one window. Each acquire takes a
short lock (``cache.add``), prunes timestamps older than the window, and appends one when there is room.

A 429 from HubSpot blocks the portal for every worker until its ``Retry-After`` (:meth:`SharedRateLimiter.block`).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache as default_cache

PREFIX = "crm:rl"


@dataclass(frozen=True)
class Limit:
    name: str
    max_requests: int
    window_seconds: float


def burst_limit() -> Limit:
    return Limit(
        "burst",
        int(getattr(settings, "HUBSPOT_BURST_LIMIT", 90)),
        float(getattr(settings, "HUBSPOT_BURST_WINDOW_SECONDS", 10.0)),
    )


def search_limit() -> Limit:
    return Limit("search", int(getattr(settings, "HUBSPOT_SEARCH_PER_SECOND", 4)), 1.0)


class RateLimitWait(Exception):
    """No slot within the wait the caller allows; ``retry_after`` says when one is expected."""

    def __init__(self, retry_after: float):
        super().__init__(f"rate limited for another {retry_after:.1f}s")
        self.retry_after = retry_after


class SharedRateLimiter:
    def __init__(
        self,
        cache=default_cache,  # noqa: ANN001 - any Django cache
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.cache = cache
        self.clock = clock
        self.sleep = sleep

    # -- one attempt ------------------------------------------------------------------------------------------
    def try_acquire(self, key: str, limit: Limit) -> float:
        """Take a slot now and return 0, or return how many seconds to wait before one frees up."""
        blocked = self.blocked_for(key)
        if blocked > 0:
            return blocked
        log_key = f"{PREFIX}:{key}:{limit.name}"
        with self._locked(log_key):
            now = self.clock()
            stamps = [t for t in (self.cache.get(log_key) or []) if t > now - limit.window_seconds]
            if len(stamps) < limit.max_requests:
                stamps.append(now)
                self.cache.set(log_key, stamps, timeout=int(limit.window_seconds) + 2)
                return 0.0
            return max(0.005, stamps[0] + limit.window_seconds - now)

    def acquire(self, key: str, limits: list[Limit], *, max_wait: float) -> float:
        """Block until a slot of every limit is taken; returns the seconds waited. Raises :class:`RateLimitWait`
        when that would take longer than ``max_wait`` (the caller reschedules instead of holding a worker)."""
        waited = 0.0
        for limit in limits:
            while True:
                wait = self.try_acquire(key, limit)
                if wait <= 0:
                    break
                if waited + wait > max_wait:
                    raise RateLimitWait(wait)
                self.sleep(wait)
                waited += wait
        return waited

    # -- what HubSpot told us ---------------------------------------------------------------------------------
    def block(self, key: str, seconds: float) -> None:
        """HubSpot answered 429 (or said no requests remain): nobody sends for ``seconds``."""
        until = self.clock() + seconds
        block_key = f"{PREFIX}:{key}:blocked"
        if (self.cache.get(block_key) or 0) < until:
            self.cache.set(block_key, until, timeout=int(seconds) + 2)

    def blocked_for(self, key: str) -> float:
        until = self.cache.get(f"{PREFIX}:{key}:blocked") or 0
        return max(0.0, until - self.clock())

    # -- the short lock around a read-modify-write of the log ----------------------------------------------------
    class _Lock:
        def __init__(self, limiter: SharedRateLimiter, key: str):
            self.limiter, self.key, self.token = limiter, f"{key}:lock", uuid.uuid4().hex

        def __enter__(self) -> None:
            deadline = time.monotonic() + 5.0
            # cache.add is atomic (SET NX on Redis); the 2 s expiry frees a lock whose holder died.
            while not self.limiter.cache.add(self.key, self.token, timeout=2):
                if time.monotonic() > deadline:
                    raise RateLimitWait(0.5)
                time.sleep(0.002)

        def __exit__(self, *exc: object) -> None:
            if self.limiter.cache.get(self.key) == self.token:
                self.limiter.cache.delete(self.key)

    def _locked(self, key: str) -> SharedRateLimiter._Lock:
        return SharedRateLimiter._Lock(self, key)
