"""The Celery broker transport: kombu's Redis transport, publishing through one client per channel.

kombu 5.7 builds a new ``redis.Redis`` for every message it publishes (``Channel.conn_or_acquire``); the
constructor fills a table of about 170 response callbacks, about 0.3 ms of CPU per publish on the webhook
path (profiled). A ``redis.Redis`` is safe to share between threads (each command takes a connection from the
pool), so one per channel and pool does the same work. When kombu replaces the channel's pool after a
connection error, the next publish builds a client for the new pool.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import redis
from kombu.transport import redis as kombu_redis


class RedisChannel(kombu_redis.Channel):
    _publish_client: tuple[redis.ConnectionPool, redis.Redis] | None = None

    @contextmanager
    def conn_or_acquire(self, client: redis.Redis | None = None) -> Iterator[redis.Redis]:
        if client is not None:
            yield client
            return
        pool = self.pool
        cached = self._publish_client
        if cached is None or cached[0] is not pool:
            cached = self._publish_client = (pool, self._create_client())
        yield cached[1]


class RedisTransport(kombu_redis.Transport):
    Channel = RedisChannel
