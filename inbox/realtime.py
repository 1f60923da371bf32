"""Live updates: domain events broadcast to the agents' browsers over the channel layer.

Each inbox channel has a group; a websocket joins only the groups of the channels its user may see
(``inbox.permissions``), so a broadcast never reaches someone who may not see it.
"""

from __future__ import annotations

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from inbox import events


def channel_group(channel_id: int) -> str:
    return f"inbox.channel.{channel_id}"


def _channel_id_of(event: events.DomainEvent) -> int | None:
    payload = event.payload
    if "channel_id" in payload:
        return payload["channel_id"]
    for key in ("message", "conversation"):
        if isinstance(payload.get(key), dict) and "channel_id" in payload[key]:
            return payload[key]["channel_id"]
    return None


def broadcast(event: events.DomainEvent) -> None:
    channel_id = _channel_id_of(event)
    if channel_id is None:
        return
    layer = get_channel_layer()
    if layer is None:
        return
    async_to_sync(layer.group_send)(
        channel_group(channel_id), {"type": "inbox.event", "event": event.name, "payload": event.payload}
    )


def connect() -> None:
    for pattern in ("message.*", "conversation.*"):
        events.subscribe(pattern, broadcast, phase=events.AFTER_COMMIT)
