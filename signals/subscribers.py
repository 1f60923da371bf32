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
    # The payload's conversation is read in the storing transaction: a tracking ID there means it is attributed
    # for good (the first attribution wins), so the per-message lookups can be skipped.
    if not (event.payload.get("conversation") or {}).get("tracking_id"):
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


def on_conversation_updated(event: events.DomainEvent) -> None:
    conversation = event.payload.get("conversation") or {}
    labels = conversation.get("labels")
    if labels and conversation.get("id"):
        outbox.conversation_labels_applied(
            organization_id=event.organization_id,
            conversation_id=conversation["id"],
            label_names=[label.get("name", "") for label in labels],
        )


def on_advertiser_connected(event: events.DomainEvent) -> None:
    from signals.services.accounts import advertiser_attach_grant

    payload = event.payload
    advertiser_attach_grant(
        organization_id=event.organization_id,
        grant_id=payload["grant_id"],
        advertiser_id=str(payload.get("advertiser_id") or ""),
        event_set_id=str(payload.get("event_set_id") or ""),
        access_token_encrypted=payload["access_token_encrypted"],
    )


def on_advertiser_disconnected(event: events.DomainEvent) -> None:
    from signals.services.accounts import advertiser_detach_grant

    advertiser_detach_grant(organization_id=event.organization_id, grant_id=event.payload["grant_id"])


def connect() -> None:
    events.subscribe("advertiser.connected", on_advertiser_connected, phase=events.IN_TRANSACTION)
    events.subscribe("advertiser.disconnected", on_advertiser_disconnected, phase=events.IN_TRANSACTION)
    events.subscribe("conversation.opened", on_conversation_opened, phase=events.IN_TRANSACTION)
    events.subscribe("message.received", on_message_received, phase=events.IN_TRANSACTION)
    events.subscribe("order.paid", on_order_paid, phase=events.IN_TRANSACTION)
    events.subscribe("conversation.updated", on_conversation_updated, phase=events.IN_TRANSACTION)
    events.subscribe("reservation.confirmed", on_reservation_confirmed, phase=events.IN_TRANSACTION)
