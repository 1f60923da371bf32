"""The websocket relays only what the role may see: channel groups, then per-conversation checks."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.db import transaction
from django.urls import path

from inbox import realtime
from inbox.access.services import members
from inbox.consumers import InboxConsumer
from inbox.selectors import conversation_as_dict
from tests.access.factories import CONVERSATION_KEYS, EXPECTED_CONVERSATIONS, ROLES, make_world

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.core]

application = URLRouter([path("ws/inbox/", InboxConsumer.as_asgi())])


async def connect(user):
    communicator = WebsocketCommunicator(application, "/ws/inbox/")
    communicator.scope["user"] = user
    connected, code = await communicator.connect()
    return communicator, connected, code


def broadcast_every_conversation(world) -> None:
    for key in CONVERSATION_KEYS + ["other-org"]:
        conversation = world.other_conversation if key == "other-org" else world.conversations[key]
        with transaction.atomic():
            realtime.emit(
                organization_id=conversation.organization_id,
                name="conversation.updated",
                payload={"conversation": conversation_as_dict(conversation)},
                channel_id=conversation.channel_id,
            )


async def drain(communicator) -> list[dict]:
    received = []
    while not await communicator.receive_nothing(timeout=0.3):
        received.append(await communicator.receive_json_from())
    return received


@pytest.mark.parametrize("role", ROLES)
async def test_live_events_reach_only_members_who_may_see_the_conversation(role):
    world = await database_sync_to_async(make_world)()
    communicator, connected, code = await connect(world.user(role))
    if role in ("anonymous", "deactivated"):
        assert not connected and code in (4401, 4403)
        return
    assert connected
    hello = await communicator.receive_json_from()
    assert hello["event"] == "hello"
    await database_sync_to_async(broadcast_every_conversation)(world)
    received = await drain(communicator)
    seen = {e["payload"]["conversation"]["id"] for e in received if e["event"] == "conversation.updated"}
    expected = world.conversation_ids(EXPECTED_CONVERSATIONS[role])
    if role == "other_org":
        expected = {world.other_conversation.pk}
    assert seen == expected
    await communicator.disconnect()


async def test_an_open_websocket_closes_when_its_member_is_deactivated():
    world = await database_sync_to_async(make_world)()
    communicator, connected, _ = await connect(world.user("agent"))
    assert connected
    await communicator.receive_json_from()  # hello
    await database_sync_to_async(members.member_deactivate)(
        actor=world.user("admin"), membership=world.members["agent"]
    )
    output = await communicator.receive_output(timeout=2)
    assert output["type"] == "websocket.close" and output["code"] == 4403


async def test_reassigning_away_from_an_only_assigned_agent_hides_the_conversation_live():
    world = await database_sync_to_async(make_world)()
    communicator, connected, _ = await connect(world.user("agent_only_assigned"))
    assert connected
    await communicator.receive_json_from()  # hello
    mine = world.conversations["mine"]

    def reassign_and_broadcast():
        mine.assignee = world.user("admin")
        mine.save(update_fields=["assignee"])
        broadcast_every_conversation(world)

    await database_sync_to_async(broadcast_every_conversation)(world)
    first = await drain(communicator)
    assert [e["payload"]["conversation"]["id"] for e in first] == [mine.pk]
    await database_sync_to_async(reassign_and_broadcast)()
    second = await drain(communicator)
    assert second == [{"event": "conversation.hidden", "payload": {"conversation_id": mine.pk}}]
    await communicator.disconnect()
