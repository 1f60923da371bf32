"""Group sends from synchronous code (workers, WSGI views) reach the group, on one loop per process."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

from switchboard import layers

pytestmark = pytest.mark.core


async def receive_numbers(layer, channel: str, count: int) -> list[int]:
    return [(await layer.receive(channel))["n"] for _ in range(count)]  # one loop: channels-redis receives per loop


def test_sends_from_synchronous_code_reach_the_group_in_order():
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)("test.layers", channel)
    try:
        for n in range(3):
            layers.group_send("test.layers", {"type": "test.message", "n": n})
        received = async_to_sync(receive_numbers)(layer, channel, 3)
    finally:
        async_to_sync(layer.group_discard)("test.layers", channel)
    assert received == [0, 1, 2]


@pytest.mark.skipif(not settings.REDIS_URL, reason="embedded: the in-memory layer sends on the caller's loop")
def test_redis_sends_share_one_loop_and_its_connections():
    layer = get_channel_layer()
    layers.group_send("test.layers.empty", {"type": "test.message"})
    loop = layers._process_loop()
    for _ in range(5):
        layers.group_send("test.layers.empty", {"type": "test.message"})
    assert layers._process_loop() is loop
    # channels-redis keeps one connection layer per event loop: the sends added none beyond ours.
    assert loop in layer._layers


def _kill_connections_of_this_database() -> int:
    """What a Redis restart does to our clients: every connection to the test's database is closed by the server."""
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    own_id = client.client_id()
    database = client.connection_pool.connection_kwargs.get("db", 0)
    killed = 0
    for entry in client.client_list():
        if int(entry["db"]) == database and int(entry["id"]) != own_id:
            killed += client.client_kill_filter(_id=entry["id"])
    return killed


@pytest.mark.skipif(not settings.REDIS_URL, reason="embedded: no Redis connections to lose")
def test_a_send_after_the_server_closed_our_connections_reconnects():
    """Found by the fault suite with RELIABILITY_RESTART_SERVICES=1: after a Redis restart the first broadcast
    of a process failed on its pooled connection, and the error reached the caller of an already committed
    change (an agent's reply)."""
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)("test.layers.restart", channel)
    try:
        layers.group_send("test.layers.restart", {"type": "test.message", "n": 1})  # the loop's pool connects
        assert _kill_connections_of_this_database() >= 1
        layers.group_send("test.layers.restart", {"type": "test.message", "n": 2})
        received = async_to_sync(receive_numbers)(layer, channel, 2)
    finally:
        async_to_sync(layer.group_discard)("test.layers.restart", channel)
    assert received == [1, 2]
