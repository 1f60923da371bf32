"""The agent's websocket: joins the groups of the channels the user may see and relays inbox events.

Browsers also send presence pings (``{"type": "presence", "conversation_id": 7, "state": "viewing"}``, states
viewing / typing / left); they are relayed as a ``presence`` event to everyone who can see that conversation, so
agents see who else is on it. Presence is never stored.
"""

from __future__ import annotations

import json
from typing import Any

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from inbox import permissions
from inbox.realtime import channel_group, user_group
from switchboard.observability import websocket_changed

PRESENCE_STATES = ("viewing", "typing", "left")


class InboxConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.user = user
        if await database_sync_to_async(permissions.active_membership)(user) is None:
            await self.close(code=4403)  # deactivated, or of no organization (issue 5)
            return
        self.channel_ids: list[int] = await database_sync_to_async(permissions.visible_channel_ids)(user)
        # Access (issue 5): when teams, "only assigned to me" or a custom role narrow what the user sees below
        # whole channels, each event's conversation is checked against the policy before it is relayed.
        self.per_conversation = await database_sync_to_async(self._needs_per_conversation_check)()
        self.mask_pii = not await database_sync_to_async(permissions.can_see_contact_pii)(user)  # issue 5
        self.relayed_conversations: set[int] = set()
        self.groups_joined = [channel_group(c) for c in self.channel_ids] + [user_group(user.pk)]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        # conversation id -> channel id, for conversations this socket announced presence in (checked once).
        self.presence_channels: dict[int, int | None] = {}
        self.counted = True  # issue 11: the open-websockets gauge, counted before the client hears "accepted"
        await sync_to_async(websocket_changed, thread_sensitive=False)(1)
        await self.accept()
        await self.send_json({"event": "hello", "payload": {"channels": self.channel_ids}})

    async def disconnect(self, code: int) -> None:
        if getattr(self, "counted", False):
            self.counted = False
            await sync_to_async(websocket_changed, thread_sensitive=False)(-1)
        for conversation_id, channel_id in getattr(self, "presence_channels", {}).items():
            if channel_id is not None:
                await self._announce(conversation_id, channel_id, "left")
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        await sync_to_async(websocket_changed, thread_sensitive=False)(0)  # keeps this process's gauge fresh
        if not isinstance(content, dict):
            return
        if content.get("type") == "ping":
            await self.send_json({"event": "pong", "payload": {}})
        elif content.get("type") == "presence":
            await self._presence(content)

    async def _presence(self, content: dict[str, Any]) -> None:
        conversation_id, state = content.get("conversation_id"), content.get("state")
        if not isinstance(conversation_id, int) or state not in PRESENCE_STATES:
            return
        if conversation_id not in self.presence_channels:
            if len(self.presence_channels) > 200:  # a runaway client must not grow this forever
                self.presence_channels.clear()
            self.presence_channels[conversation_id] = await database_sync_to_async(self._visible_channel)(
                conversation_id
            )
        channel_id = self.presence_channels[conversation_id]
        if channel_id is not None:
            await self._announce(conversation_id, channel_id, state)

    def _visible_channel(self, conversation_id: int) -> int | None:
        return (
            permissions.visible_conversations(self.user)
            .filter(pk=conversation_id)
            .values_list("channel_id", flat=True)
            .first()
        )

    async def _announce(self, conversation_id: int, channel_id: int, state: str) -> None:
        payload = {
            "conversation_id": conversation_id,
            "channel_id": channel_id,
            "user_id": self.user.pk,
            "name": self.user.get_full_name() or self.user.get_username(),
            "state": state,
        }
        await self.channel_layer.group_send(
            channel_group(channel_id), {"type": "inbox.event", "event": "presence", "payload": payload}
        )

    def _needs_per_conversation_check(self) -> bool:
        return permissions.sees_per_conversation(permissions.active_membership(self.user))

    def _can_see(self, conversation_id: int) -> bool:
        return permissions.visible_conversations(self.user).filter(pk=conversation_id).exists()

    async def access_revoked(self, message: dict[str, Any]) -> None:
        """The member was deactivated (``inbox.access.services.sessions``): close at once."""
        await self.close(code=4403)

    async def inbox_event(self, message: dict[str, Any]) -> None:
        frame = message.get("frame")
        if frame is not None:
            # A logged event, serialized once by ``inbox.realtime.emit``: relayed as is unless this socket must
            # look inside it.
            if not getattr(self, "per_conversation", False) and not getattr(self, "mask_pii", True):
                await self.send(text_data=frame)
                return
            message = json.loads(frame)
        if getattr(self, "per_conversation", False):
            conversation_id = conversation_id_of(message["payload"])
            if conversation_id is not None and not await database_sync_to_async(self._can_see)(conversation_id):
                if conversation_id in self.relayed_conversations:  # it was on this screen: tell it to go away
                    self.relayed_conversations.discard(conversation_id)
                    hidden = {"event": "conversation.hidden", "payload": {"conversation_id": conversation_id}}
                    await self.send_json(hidden)
                return
            if conversation_id is not None:
                self.relayed_conversations.add(conversation_id)
        data = {"event": message["event"], "payload": message["payload"]}
        if getattr(self, "mask_pii", True):  # issue 5: numbers and emails typed in text arrive masked
            data["payload"] = permissions.mask_payload_pii(data["payload"])
        if message.get("seq") is not None:
            data["seq"] = message["seq"]
        await self.send_json(data)


def conversation_id_of(payload: Any) -> int | None:
    """The conversation an event is about, whatever its shape (message, note, conversation, presence)."""
    if not isinstance(payload, dict):
        return None
    if isinstance(payload.get("conversation_id"), int):
        return payload["conversation_id"]
    for key in ("message", "note"):
        if isinstance(payload.get(key), dict) and isinstance(payload[key].get("conversation_id"), int):
            return payload[key]["conversation_id"]
    conversation = payload.get("conversation")
    if isinstance(conversation, dict) and isinstance(conversation.get("id"), int):
        return conversation["id"]
    return None
