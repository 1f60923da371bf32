"""Live updates: domain events broadcast to the agents' browsers over the channel layer.

Each inbox channel has a group; a websocket joins only the groups of the channels its user may see
(``inbox.permissions``), so a broadcast never reaches someone who may not see it. Each user also has a
personal group (mention notifications).

Catching up after a reconnect: every broadcast event is first written, inside the transaction that made the
change, to the live log (``InboxEvent``); its id travels with the broadcast as ``seq``. A reconnecting browser
asks ``GET /api/v1/events/?since=<last seq>`` for what it missed (scoped like the groups). The log keeps
``EVENT_RETENTION``; a browser that was away longer (or missed more than ``CATCH_UP_LIMIT`` events) gets
``reset: true`` and re-reads its list instead. Ids are shared by all organizations, so an organization's
sequence has gaps; two transactions can commit out of id order, which is why the browser also re-reads its
visible list after a reconnect instead of trusting the log alone.

Presence ("Ana is viewing / typing") is not logged: it is only meaningful now.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from inbox import events
from inbox.models import InboxEvent
from switchboard import layers

logger = logging.getLogger(__name__)

EVENT_RETENTION = timedelta(hours=6)
CATCH_UP_LIMIT = 500


def channel_group(channel_id: int) -> str:
    return f"inbox.channel.{channel_id}"


def user_group(user_id: int) -> str:
    return f"inbox.user.{user_id}"


def _channel_id_of(event: events.DomainEvent) -> int | None:
    payload = event.payload
    if "channel_id" in payload:
        return payload["channel_id"]
    for key in ("message", "conversation", "note"):
        if isinstance(payload.get(key), dict) and "channel_id" in payload[key]:
            return payload[key]["channel_id"]
    return None


def _send(group: str, message: dict[str, Any]) -> None:
    # After commit: the change and its logged event are durable, and a browser that missed the broadcast catches
    # up from the log by sequence number when it reconnects. A failing channel layer must not turn the committed
    # change into an error for its caller.
    try:
        layers.group_send(group, message)
    except Exception:
        logger.warning("broadcast failed; browsers catch up from the event log", extra={"group": group}, exc_info=True)


def emit(
    *,
    organization_id: int,
    name: str,
    payload: dict[str, Any],
    channel_id: int | None = None,
    user_id: int | None = None,
) -> InboxEvent:
    """Log an event and broadcast it after commit to the channel's group (or the user's group).

    The payload is round-tripped through JSON here, so an unserializable one fails at once (as in events.py).
    """
    payload_json = json.dumps(payload, cls=DjangoJSONEncoder)
    payload = json.loads(payload_json)
    logged = InboxEvent.objects.create(
        organization_id=organization_id, name=name, channel_id=channel_id, user_id=user_id, payload=payload
    )
    group = user_group(user_id) if user_id is not None else channel_group(channel_id)  # type: ignore[arg-type]
    message = {"type": "inbox.event", "frame": event_frame(name, payload_json, logged.pk)}
    transaction.on_commit(lambda: _send(group, message))
    return logged


def event_frame(name: str, payload_json: str, seq: int) -> str:
    """The websocket text of a logged event, serialized once for every socket of the group.

    Relaying it as text is the cheapest a socket can do (a bare Channels consumer relaying a prebuilt frame is the
    fan-out floor of ``bench/capacity.py``): the consumer neither unpacks a payload from the channel layer nor
    encodes it again, once per agent. A socket that must look inside (per-conversation access, masked contact
    details) parses it (:func:`inbox.consumers.InboxConsumer.inbox_event`).
    """
    return f'{{"event": {json.dumps(name)}, "payload": {payload_json}, "seq": {int(seq)}}}'


def record(event: events.DomainEvent) -> None:
    """In-transaction subscriber: log a domain event and broadcast it once the change is committed."""
    channel_id = _channel_id_of(event)
    if channel_id is None:
        return
    emit(organization_id=event.organization_id, name=event.name, payload=event.payload, channel_id=channel_id)


def broadcast(event: events.DomainEvent) -> None:
    """Broadcast without logging (kept for callers outside a transaction)."""
    channel_id = _channel_id_of(event)
    if channel_id is not None:
        _send(channel_group(channel_id), {"type": "inbox.event", "event": event.name, "payload": event.payload})


def send_presence(*, channel_id: int, payload: dict[str, Any]) -> None:
    _send(channel_group(channel_id), {"type": "inbox.event", "event": "presence", "payload": payload})


def latest_seq(organization_id: int) -> int:
    last = InboxEvent.objects.filter(organization_id=organization_id).order_by("-id").values_list("id", flat=True)
    return last.first() or 0


def events_since(
    *, organization_id: int, user_id: int, channel_ids: list[int], since: int
) -> tuple[list[dict[str, Any]], bool]:
    """Events after ``since`` that this user would have received; ``(events, reset)``.

    ``reset`` is true when the log no longer reaches back to ``since`` or too much was missed.
    """
    log = InboxEvent.objects.filter(organization_id=organization_id)
    if since and not log.filter(id=since).exists():
        return [], True  # pruned (or not a sequence number of this organization)
    rows = list(
        log.filter(id__gt=since)
        .filter(Q(channel_id__in=channel_ids, user_id__isnull=True) | Q(user_id=user_id))
        .order_by("id")
        .values("id", "name", "payload")[: CATCH_UP_LIMIT + 1]
    )
    if len(rows) > CATCH_UP_LIMIT:
        return [], True
    return [{"seq": r["id"], "event": r["name"], "payload": r["payload"]} for r in rows], False


def prune_events(*, older_than: timedelta = EVENT_RETENTION) -> int:
    deleted, _ = InboxEvent.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted


def connect() -> None:
    for pattern in ("message.*", "conversation.*", "note.*"):
        events.subscribe(pattern, record, phase=events.IN_TRANSACTION)
