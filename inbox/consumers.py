"""The agent's websocket: joins the groups of the channels the user may see and relays inbox events.

Browsers also send presence pings (``{"type": "presence", "conversation_id": 7, "state": "viewing"}``, states
viewing / typing / left); they are relayed as a ``presence`` event to everyone who can see that conversation, so
agents see who else is on it. Presence is never stored.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from inbox import permissions
from inbox.realtime import channel_group, user_group

PRESENCE_STATES = ("viewing", "typing", "left")


class InboxConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.user = user
        self.channel_ids: list[int] = await database_sync_to_async(permissions.visible_channel_ids)(user)
        self.groups_joined = [channel_group(c) for c in self.channel_ids] + [user_group(user.pk)]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        # conversation id -> channel id, for conversations this socket announced presence in (checked once).
        self.presence_channels: dict[int, int | None] = {}
        await self.accept()
        await self.send_json({"event": "hello", "payload": {"channels": self.channel_ids}})

    async def disconnect(self, code: int) -> None:
        for conversation_id, channel_id in getattr(self, "presence_channels", {}).items():
            if channel_id is not None:
                await self._announce(conversation_id, channel_id, "left")
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
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

    async def inbox_event(self, message: dict[str, Any]) -> None:
        data = {"event": message["event"], "payload": message["payload"]}
        if message.get("seq") is not None:
            data["seq"] = message["seq"]
        await self.send_json(data)
