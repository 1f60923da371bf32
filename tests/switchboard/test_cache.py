"""The Redis cache reuses one client per connection pool and still reads what it wrote."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache

pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(not settings.REDIS_URL, reason="embedded: the cache is in-process memory"),
]


def test_cache_operations_share_a_client_and_round_trip_values():
    backend = cache._cache
    assert backend.get_client(write=True) is backend.get_client(write=True)
    cache.set("test-cache-reuse", {"n": 1}, 30)
    assert cache.get("test-cache-reuse") == {"n": 1}
    cache.delete("test-cache-reuse")
    assert cache.get("test-cache-reuse") is None
