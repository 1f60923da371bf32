"""Domain events: a tiny, explicit publish/subscribe registry.

``inbox`` publishes; other apps subscribe in their ``AppConfig.ready()``. Two phases:

* ``IN_TRANSACTION`` subscribers run inside the transaction that stored the change and may only write rows
  (outbox, audit): whatever they write commits with the change or not at all.
* ``AFTER_COMMIT`` subscribers run through ``transaction.on_commit``: broadcasts and task enqueues, which must
  never announce something that was rolled back.

Payloads are round-tripped through JSON at publish time, so an unserializable payload fails at once, in tests,
instead of in a websocket or a Celery task.
"""

from __future__ import annotations

import fnmatch
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

logger = logging.getLogger(__name__)

Phase = Literal["in_transaction", "after_commit"]
IN_TRANSACTION: Phase = "in_transaction"
AFTER_COMMIT: Phase = "after_commit"

KNOWN_EVENTS = frozenset(
    {
        "message.received",
        "message.sent",
        "message.status_changed",
        "conversation.opened",
        "conversation.updated",
        "note.created",
        "order.created",
        "order.paid",
        "order.updated",
        "reservation.created",
        "reservation.confirmed",
        "reservation.updated",
        "channel.connected",
        "channel.disconnected",
        # A TikTok advertiser authorization (integrations.connections) for signals to attach or detach.
        "advertiser.connected",
        "advertiser.disconnected",
        "member.deactivated",  # issue 5: a member lost access (websockets, CRM, apps may react)
    }
)


@dataclass(frozen=True)
class DomainEvent:
    name: str
    organization_id: int
    payload: dict[str, Any]


Handler = Callable[[DomainEvent], None]


@dataclass(frozen=True)
class _Subscription:
    pattern: str
    handler: Handler
    phase: Phase


_subscriptions: list[_Subscription] = []


def subscribe(pattern: str, handler: Handler, *, phase: Phase) -> None:
    """Register ``handler`` for events whose name matches ``pattern`` (``"order.*"`` works). Idempotent."""
    if not any(fnmatch.fnmatchcase(name, pattern) for name in KNOWN_EVENTS):
        raise ValueError(f"no known event matches {pattern!r}")
    subscription = _Subscription(pattern, handler, phase)
    if subscription not in _subscriptions:
        _subscriptions.append(subscription)


def unsubscribe(handler: Handler) -> None:
    _subscriptions[:] = [s for s in _subscriptions if s.handler is not handler]


def publish(name: str, *, organization_id: int, **payload: Any) -> DomainEvent:
    """Publish an event from inside the transaction that made the change (the caller holds it open)."""
    if name not in KNOWN_EVENTS:
        raise ValueError(f"unknown event {name!r}")
    event = DomainEvent(name, organization_id, json.loads(json.dumps(payload, cls=DjangoJSONEncoder)))
    for subscription in list(_subscriptions):
        if not fnmatch.fnmatchcase(name, subscription.pattern):
            continue
        if subscription.phase == IN_TRANSACTION:
            subscription.handler(event)
        else:
            transaction.on_commit(_guarded(subscription.handler, event))
    return event


def _guarded(handler: Handler, event: DomainEvent) -> Callable[[], None]:
    def run() -> None:
        # After commit the change is durable; a failing broadcast or enqueue must not hide it from the
        # caller. The outbox sweep re-enqueues whatever a failed enqueue left pending.
        try:
            handler(event)
        except Exception:
            logger.exception("after-commit subscriber failed", extra={"event": event.name})

    return run
