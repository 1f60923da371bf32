"""The broker transport publishes through one redis client per channel (and a new one for a new pool)."""

from __future__ import annotations

import pytest
import redis
from django.conf import settings

from switchboard.broker import RedisChannel
from switchboard.celery import app

pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(not settings.REDIS_URL, reason="embedded: tasks run in-process, there is no broker"),
]

QUEUE = "switchboard-test-broker"


@pytest.fixture
def channel():
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(QUEUE)
        yield channel
        redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(QUEUE)


def test_celery_publishes_through_the_project_transport(channel):
    assert isinstance(channel, RedisChannel)


def test_messages_published_on_one_channel_share_a_client_and_all_arrive(channel, monkeypatch):
    created = []
    build = channel._create_client

    def counting_create_client(*args, **kwargs):
        created.append(1)
        return build(*args, **kwargs)

    monkeypatch.setattr(channel, "_create_client", counting_create_client)
    for n in range(3):
        channel._put(QUEUE, {"body": f"message {n}", "properties": {}})
    assert len(created) == 1
    channel._disconnect_pools()  # what kombu does after a connection error: the old client's pool is gone
    channel._put(QUEUE, {"body": "after reconnect", "properties": {}})
    assert len(created) == 2
    assert redis.Redis.from_url(settings.CELERY_BROKER_URL).llen(QUEUE) == 4
