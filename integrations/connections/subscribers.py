"""Subscriptions of the connections app to domain events: outbound webhooks for authorized apps."""

from __future__ import annotations

from inbox import events

# Events an authorized app may subscribe to, with the scope (besides webhooks:subscribe) it needs for each.
WEBHOOK_EVENTS: dict[str, str] = {
    "message.received": "conversations:read",
    "conversation.updated": "conversations:read",
    "order.updated": "orders:write",
}


def queue_webhook_deliveries(event: events.DomainEvent) -> None:
    """In the transaction that stored the change: one delivery row per active subscriber of the event.

    The rows commit with the change or not at all; their first attempt is enqueued on commit, and the beat
    sweep (``connections.deliver_due_webhooks``) retries whatever is still due.
    """
    from integrations.connections.services import app_webhooks

    app_webhooks.deliveries_create_for_event(event=event)


def has_active_subscription(organization_id: int) -> bool:
    from integrations.connections.models import WebhookSubscription

    return WebhookSubscription.objects.filter(organization_id=organization_id, is_active=True).exists()


def connect() -> None:
    from integrations.connections.services import configured

    configured.register("webhook subscriptions", has_active_subscription)
    for name in WEBHOOK_EVENTS:
        events.subscribe(name, queue_webhook_deliveries, phase=events.IN_TRANSACTION)
