"""A shared rate limiter on Django's cache: Redis in production (shared by every worker), locmem embedded.

Fixed windows: each key counts the calls in the current window (one second by default) and refuses past the
limit, saying how long until the next window opens. Simple and cheap (one ``INCR`` per call); a burst of up
to twice the limit can straddle a window boundary, which the providers' own limits tolerate.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from django.core.cache import cache


def acquire(key: str, *, limit: float, window: float = 1.0, clock: Callable[[], float] = time.time) -> float:
    """Take one slot for ``key``. Returns 0.0 when allowed, else the seconds to wait before trying again.

    A limit below one call per window widens the window instead (0.5/s: one call per two seconds).
    """
    if limit <= 0:
        raise ValueError("limit must be positive")
    if limit < 1:
        window, limit = window / limit, 1
    allowed = math.floor(limit)
    now = clock()
    index = int(now // window)
    cache_key = f"ratelimit:{key}:{window:g}:{index}"
    # add() is a no-op when the key exists; the expiry outlives the window so a slow clock cannot reuse it.
    cache.add(cache_key, 0, timeout=math.ceil(window) + 1)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add() and incr(): this call is the first of a fresh window
        cache.add(cache_key, 1, timeout=math.ceil(window) + 1)
        count = 1
    if count <= allowed:
        return 0.0
    return max(0.001, (index + 1) * window - now)
