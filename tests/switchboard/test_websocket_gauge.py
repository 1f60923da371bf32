"""The open-websockets gauge moves with real connections (channels' testing communicator on the real consumer)."""

from __future__ import annotations

import threading
import time

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.urls import path
from prometheus_client.parser import text_string_to_metric_families

from inbox.consumers import InboxConsumer
from inbox.models import Role
from switchboard import observability
from switchboard.observability import process_name, render_metrics
from tests.factories import MembershipFactory, OrganizationFactory, make_channel

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.core]

application = URLRouter([path("ws/inbox/", InboxConsumer.as_asgi())])


def this_process_gauge() -> float:
    # Republish this process's count first: a socket another test left open keeps the in-process count while
    # its published value may have expired, and the test measures differences.
    observability._websocket_published_at = 0.0
    observability.websocket_changed(0)
    for family in text_string_to_metric_families(render_metrics().decode()):
        if family.name == "switchboard_websocket_connections":
            for sample in family.samples:
                if sample.labels["process"] == process_name():
                    return sample.value
    return 0.0


def make_agent():
    organization = OrganizationFactory()
    membership = MembershipFactory(organization=organization, role=Role.AGENT)
    membership.channels.add(make_channel(organization))
    return membership.user


async def open_socket(user):
    communicator = WebsocketCommunicator(application, "/ws/inbox/")
    communicator.scope["user"] = user
    connected, _ = await communicator.connect(timeout=15)  # a busy machine is slow to accept
    return communicator, connected


async def test_the_gauge_counts_open_websockets_of_this_process():
    gauge = database_sync_to_async(this_process_gauge)
    before = await gauge()
    user = await database_sync_to_async(make_agent)()
    first, connected = await open_socket(user)
    assert connected
    second, connected = await open_socket(user)
    assert connected
    assert await gauge() == before + 2

    await first.disconnect()
    assert await gauge() == before + 1
    await second.disconnect()
    assert await gauge() == before


async def test_a_refused_websocket_is_not_counted():
    gauge = database_sync_to_async(this_process_gauge)
    before = await gauge()
    refused, connected = await open_socket(AnonymousUser())
    assert not connected
    assert await gauge() == before


def test_the_system_page_shows_the_gauge(client):
    from switchboard.observability import websocket_changed
    from tests.factories import UserFactory

    websocket_changed(1)
    websocket_changed(-1)  # this process has reported (0 open) as an ASGI process does
    client.force_login(UserFactory(is_staff=True))
    assert "switchboard_websocket_connections" in client.get("/system/").content.decode()


@pytest.mark.skipif(not settings.REDIS_URL, reason="embedded: the count lives in this process, nothing expires")
def test_a_process_with_silent_sockets_keeps_its_published_count(monkeypatch):
    """Agents on the list page send nothing for hours; the process republishes its count before the key expires."""
    import redis

    monkeypatch.setattr(observability, "WEBSOCKET_REFRESH_SECONDS", 0.2)
    client = redis.Redis.from_url(settings.REDIS_URL)
    key = observability.WEBSOCKET_KEY_PREFIX + process_name()
    observability.websocket_changed(1)
    stop = threading.Event()
    refresher = threading.Thread(target=observability._refresh_websocket_gauge, args=(stop,), daemon=True)
    try:
        client.delete(key)  # as if the TTL had run out while every socket stayed silent
        refresher.start()
        deadline = time.monotonic() + 10
        while client.get(key) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert int(client.get(key)) == observability._websocket_count >= 1
        assert 0 < client.ttl(key) <= observability.WEBSOCKET_KEY_TTL
    finally:
        stop.set()
        refresher.join(timeout=5)
        observability.websocket_changed(-1)
