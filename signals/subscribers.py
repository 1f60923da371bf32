"""Subscriptions of the signals app to inbox domain events (connected in ``SignalsConfig.ready()``).

All run IN_TRANSACTION: whatever they write (conversation attribution, flags, outbox rows) commits with the
message or order that caused it, or not at all. The delivery task is enqueued once per transaction, after
commit, by :func:`signals.services.outbox.schedule_delivery` (only when outbox rows were written), rather than
by an AFTER_COMMIT subscriber that would run for every message.
"""

from __future__ import annotations

from inbox import events
from signals.models import MessageEventRule
from signals.services import outbox


def on_conversation_opened(event: events.DomainEvent) -> None:
    """A thread opened from an ad (referral without a message, or the first message): attribute it."""
    conversation = event.payload.get("conversation") or {}
    if conversation.get("id") and not conversation.get("tracking_id"):
        outbox.conversation_attribute(
            organization_id=event.organization_id, conversation_id=conversation["id"], message_id=None
        )


def on_message_received(event: events.DomainEvent) -> None:
    message = event.payload["message"]
    if message.get("direction") != "inbound":
        return
    conversation_id = message["conversation_id"]
    outbox.conversation_attribute(
        organization_id=event.organization_id, conversation_id=conversation_id, message_id=message["id"]
    )
    outbox.conversation_raise_flags(
        organization_id=event.organization_id, conversation_id=conversation_id, text=message.get("body") or ""
    )


def on_order_paid(event: events.DomainEvent) -> None:
    outbox.commerce_event_record(
        organization_id=event.organization_id, trigger=MessageEventRule.Trigger.ORDER_PAID, payload=event.payload
    )


def on_reservation_confirmed(event: events.DomainEvent) -> None:
    outbox.commerce_event_record(
        organization_id=event.organization_id,
        trigger=MessageEventRule.Trigger.RESERVATION_CONFIRMED,
        payload=event.payload,
    )


def connect() -> None:
    events.subscribe("conversation.opened", on_conversation_opened, phase=events.IN_TRANSACTION)
    events.subscribe("message.received", on_message_received, phase=events.IN_TRANSACTION)
    events.subscribe("order.paid", on_order_paid, phase=events.IN_TRANSACTION)
    events.subscribe("reservation.confirmed", on_reservation_confirmed, phase=events.IN_TRANSACTION)
