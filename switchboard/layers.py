"""Channel-layer sends from synchronous code (Celery workers, WSGI views) on one event loop per process.

``async_to_sync(layer.group_send)`` outside an event loop starts a new loop for every call, and channels-redis
keeps its Redis connections per loop: every broadcast opened and closed a connection, about 6 ms of CPU and
10 ms of wall time, the largest cost of processing an inbound message in the worker (profiled). Here a daemon
thread runs one loop for the life of the process (a forked child starts its own), so connections are reused.

Every layer but the in-memory one of the embedded mode, which hands messages to consumers on the server's own
loop, where ``async_to_sync`` already runs the send.
"""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any

import redis.exceptions
from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

SEND_TIMEOUT_SECONDS = 10

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_loop_pid: int | None = None


def _process_loop() -> asyncio.AbstractEventLoop:
    global _loop, _loop_pid
    with _lock:
        if _loop is None or _loop_pid != os.getpid():  # a forked worker inherits the variable, not the thread
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="channel-layer-sends", daemon=True).start()
            _loop, _loop_pid = loop, os.getpid()
        return _loop


def _delivers_on_the_callers_loop(layer: Any) -> bool:
    """The in-memory layer hands a message to the consumers' queues on the loop that sends it: in the embedded
    server that must be the server's own loop, which ``async_to_sync`` from a sync view uses."""
    return isinstance(layer, InMemoryChannelLayer)


def group_send(group: str, message: dict[str, Any]) -> None:
    """Send ``message`` to ``group`` from synchronous code; no-op without a channel layer."""
    layer = get_channel_layer()
    if layer is None:
        return
    if _delivers_on_the_callers_loop(layer):
        async_to_sync(layer.group_send)(group, message)
        return
    try:
        _send_on_process_loop(layer, group, message)
    except (ConnectionError, redis.exceptions.ConnectionError):
        # A pooled connection the server closed (a Redis restart, an idle timeout) fails its next command once;
        # the pool has dropped it, so the retry connects anew. A timeout is not retried: it already waited.
        _send_on_process_loop(layer, group, message)


def _send_on_process_loop(layer: Any, group: str, message: dict[str, Any]) -> None:
    future = asyncio.run_coroutine_threadsafe(layer.group_send(group, message), _process_loop())
    future.result(timeout=SEND_TIMEOUT_SECONDS)
