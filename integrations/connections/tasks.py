"""Celery entry points of the connections app: thin, ids in, services called."""

from __future__ import annotations

from celery import shared_task

from integrations.connections.services import outbound_webhooks, states, tokens


@shared_task(name="connections.deliver_webhook")
def deliver_webhook(delivery_id: int) -> str:
    delivery = outbound_webhooks.delivery_attempt(delivery_id=delivery_id)
    return delivery.status if delivery is not None else "missing"


@shared_task(name="connections.deliver_due_webhooks")
def deliver_due_webhooks() -> int:
    """Beat sweep: every pending delivery whose retry time has come (and any whose first enqueue was lost)."""
    ids = outbound_webhooks.due_delivery_ids()
    for delivery_id in ids:
        deliver_webhook.delay(delivery_id)
    return len(ids)


@shared_task(name="connections.refresh_token")
def refresh_token(connection_id: int) -> str:
    return tokens.connection_refresh(connection_id=connection_id).status


@shared_task(name="connections.refresh_due_tokens")
def refresh_due_tokens() -> int:
    """Beat: refresh TikTok business tokens that expire within CONNECTIONS_REFRESH_AHEAD_SECONDS (and forget
    authorization requests older than a day: they can no longer complete)."""
    states.states_purge()
    ids = tokens.connections_due_for_refresh()
    for connection_id in ids:
        refresh_token.delay(connection_id)
    return len(ids)
