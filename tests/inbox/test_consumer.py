"""The agent websocket on the configured channel layer (in-memory embedded, Redis on services)."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.urls import path
from django.utils import timezone

from inbox.consumers import InboxConsumer
from inbox.models import Role
from inbox.services.messages import message_receive_inbound
from tests.factories import MembershipFactory, OrganizationFactory, make_channel

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.core]

application = URLRouter([path("ws/inbox/", InboxConsumer.as_asgi())])


def setup_world():
    organization = OrganizationFactory()
    visible = make_channel(organization, name="Visible")
    hidden = make_channel(organization, name="Hidden")
    agent = MembershipFactory(organization=organization, role=Role.AGENT)
    agent.channels.add(visible)
    return agent.user, visible, hidden


async def connect(user):
    communicator = WebsocketCommunicator(application, "/ws/inbox/")
    communicator.scope["user"] = user
    connected, code = await communicator.connect()
    return communicator, connected, code


def receive(channel, external_id, text):
    message_receive_inbound(
        channel=channel, customer_id="c-" + external_id, external_id=external_id, sent_at=timezone.now(), text=text
    )


async def test_agent_receives_messages_of_their_channels_only():
    user, visible, hidden = await database_sync_to_async(setup_world)()
    communicator, connected, _ = await connect(user)
    assert connected
    hello = await communicator.receive_json_from()
    assert hello["payload"]["channels"] == [visible.pk]

    await database_sync_to_async(receive)(hidden, "h1", "secret for another team")
    await database_sync_to_async(receive)(visible, "v1", "Hello agent")

    received = [await communicator.receive_json_from(timeout=5) for _ in range(2)]
    assert [r["event"] for r in received] == ["conversation.opened", "message.received"]
    assert received[1]["payload"]["message"]["body"] == "Hello agent"
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_anonymous_socket_is_refused():
    communicator, connected, code = await connect(AnonymousUser())
    assert not connected and code == 4401


async def test_a_live_event_is_what_the_catch_up_log_serves():
    """The frame is serialized once for the whole group (``inbox.realtime.event_frame``): what a socket receives is
    the logged event, with its sequence number, exactly as a reconnecting browser reads it back."""
    from inbox import realtime

    user, visible, _ = await database_sync_to_async(setup_world)()
    communicator, connected, _ = await connect(user)
    assert connected
    await communicator.receive_json_from()

    await database_sync_to_async(receive)(visible, "v1", 'Quotes " and \\ and émoji 🙂')
    live = [await communicator.receive_json_from(timeout=5) for _ in range(2)]
    await communicator.disconnect()

    logged, reset = await database_sync_to_async(realtime.events_since)(
        organization_id=visible.organization_id, user_id=user.pk, channel_ids=[visible.pk], since=0
    )
    assert not reset
    assert live == logged
    assert live[1]["payload"]["message"]["body"] == 'Quotes " and \\ and émoji 🙂'
