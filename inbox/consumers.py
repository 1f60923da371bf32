"""The agent's websocket: joins the groups of the channels the user may see and relays inbox events."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from inbox import permissions
from inbox.realtime import channel_group


class InboxConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.channel_ids: list[int] = await database_sync_to_async(permissions.visible_channel_ids)(user)
        for channel_id in self.channel_ids:
            await self.channel_layer.group_add(channel_group(channel_id), self.channel_name)
        await self.accept()
        await self.send_json({"event": "hello", "payload": {"channels": self.channel_ids}})

    async def disconnect(self, code: int) -> None:
        for channel_id in getattr(self, "channel_ids", []):
            await self.channel_layer.group_discard(channel_group(channel_id), self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"event": "pong", "payload": {}})

    async def inbox_event(self, message: dict[str, Any]) -> None:
        await self.send_json({"event": message["event"], "payload": message["payload"]})
