"""Collision presence and sequence numbers over the agent websocket (configured channel layer)."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.urls import path

from inbox.consumers import InboxConsumer
from inbox.models import Role
from inbox.services.conversations import conversation_set_priority
from inbox.services.notes import note_add
from tests.factories import OrganizationFactory, make_channel, make_conversation
from tests.inbox.factories import member

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.core]

application = URLRouter([path("ws/inbox/", InboxConsumer.as_asgi())])


def setup_world():
    org = OrganizationFactory()
    channel = make_channel(org)
    hidden_channel = make_channel(org, name="Hidden")
    ana = member(org, Role.AGENT, channels=[channel], username="ana")
    budi = member(org, Role.AGENT, channels=[channel], username="budi")
    conversation = make_conversation(channel, "c1")
    hidden = make_conversation(hidden_channel, "c2")
    return ana, budi, conversation, hidden


async def connect(user):
    communicator = WebsocketCommunicator(application, "/ws/inbox/")
    communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    assert connected
    assert (await communicator.receive_json_from())["event"] == "hello"
    return communicator


async def test_presence_reaches_other_agents_of_the_conversation_only_when_visible():
    ana, budi, conversation, hidden = await database_sync_to_async(setup_world)()
    ana_socket, budi_socket = await connect(ana), await connect(budi)

    await ana_socket.send_json_to({"type": "presence", "conversation_id": conversation.pk, "state": "typing"})
    seen = await budi_socket.receive_json_from(timeout=5)
    assert seen["event"] == "presence"
    assert seen["payload"] | {} == {
        "conversation_id": conversation.pk,
        "channel_id": conversation.channel_id,
        "user_id": ana.pk,
        "name": "ana",
        "state": "typing",
    }
    await ana_socket.receive_json_from(timeout=5)  # her own echo: the browser ignores it

    # A conversation Ana cannot see, and nonsense, are dropped silently.
    await ana_socket.send_json_to({"type": "presence", "conversation_id": hidden.pk, "state": "viewing"})
    await ana_socket.send_json_to({"type": "presence", "conversation_id": "x", "state": "dancing"})
    assert await budi_socket.receive_nothing(timeout=0.3)

    await ana_socket.disconnect()
    left = await budi_socket.receive_json_from(timeout=5)
    assert left["payload"]["state"] == "left"
    await budi_socket.disconnect()


async def test_events_carry_increasing_sequence_numbers_and_mentions_reach_only_the_mentioned():
    ana, budi, conversation, _ = await database_sync_to_async(setup_world)()
    ana_socket, budi_socket = await connect(ana), await connect(budi)

    await database_sync_to_async(conversation_set_priority)(conversation=conversation, user=ana, priority="high")
    await database_sync_to_async(note_add)(user=ana, conversation=conversation, body="@budi look")

    budi_events = [await budi_socket.receive_json_from(timeout=5) for _ in range(3)]
    assert [e["event"] for e in budi_events] == ["conversation.updated", "notification.created", "note.created"]
    seqs = [e["seq"] for e in budi_events]
    assert seqs == sorted(seqs)
    ana_events = [await ana_socket.receive_json_from(timeout=5) for _ in range(2)]
    assert [e["event"] for e in ana_events] == ["conversation.updated", "note.created"]
    assert await ana_socket.receive_nothing(timeout=0.3)
    await ana_socket.disconnect()
    await budi_socket.disconnect()
