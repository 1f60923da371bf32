"""Subscriptions of the CRM app to inbox domain events (connected in ``CrmConfig.ready()``).

IN_TRANSACTION handlers only write rows: HubSpot sync items and webhook deliveries, which commit with the message,
order or reservation that caused them, or not at all. The AFTER_COMMIT handler enqueues the sync task, once per
organization and transaction, and only when a sync item was written (webhook deliveries enqueue their own task on
commit).
"""

from __future__ import annotations

from inbox import events
from integrations.connections.services.configured import outbound_configured, register
from integrations.crm.models import HubSpotConnection
from integrations.crm.services import outbox
from integrations.crm.services.webhooks import webhook_events_record


def has_active_hubspot(organization_id: int) -> bool:
    return HubSpotConnection.objects.filter(
        organization_id=organization_id, status=HubSpotConnection.Status.CONNECTED
    ).exists()


def on_contact_activity(event: events.DomainEvent) -> None:
    """A conversation opened or a customer wrote: the contact may be new or changed."""
    conversation = event.payload.get("conversation") or {}
    message = event.payload.get("message") or {}
    if event.name == "message.received" and message.get("direction") != "inbound":
        return
    if not outbound_configured(event.organization_id):  # the hot path: no query when nothing is configured
        return
    if conversation.get("id"):
        outbox.crm_conversation_contact_changed(
            organization_id=event.organization_id, conversation_id=conversation["id"], event=event.name
        )
    _webhooks(event, event.name, contact_from_conversation=conversation.get("id"))


def on_conversation_updated(event: events.DomainEvent) -> None:
    conversation = event.payload.get("conversation") or {}
    if conversation.get("status") != "resolved" or not outbound_configured(event.organization_id):
        return
    outbox.crm_conversation_resolved(organization_id=event.organization_id, conversation=conversation, event=event.name)
    _webhooks(event, "conversation.resolved", contact_from_conversation=conversation.get("id"))


def on_order(event: events.DomainEvent) -> None:
    if not outbound_configured(event.organization_id):
        return
    order = event.payload.get("order") or {}
    outbox.crm_order_changed(organization_id=event.organization_id, order=order, event=event.name)
    _webhooks(event, event.name, contact_id=order.get("contact_id"))


def on_reservation_confirmed(event: events.DomainEvent) -> None:
    if not outbound_configured(event.organization_id):
        return
    reservation = event.payload.get("reservation") or {}
    outbox.crm_reservation_confirmed(organization_id=event.organization_id, reservation=reservation, event=event.name)
    _webhooks(event, event.name, contact_id=reservation.get("contact_id"))


def _webhooks(
    event: events.DomainEvent,
    event_type: str,
    *,
    contact_id: int | None = None,
    contact_from_conversation: int | None = None,
) -> None:
    webhook_events_record(
        organization_id=event.organization_id,
        event_type=event_type,
        data=event.payload,
        contact_id=contact_id,
        conversation_id=contact_from_conversation,
    )


def enqueue_sync(event: events.DomainEvent) -> None:
    if outbox.take_written(event.organization_id):
        from integrations.crm.tasks import sync_organization

        sync_organization.delay(event.organization_id)


def connect() -> None:
    register("HubSpot", has_active_hubspot)
    events.subscribe("conversation.opened", on_contact_activity, phase=events.IN_TRANSACTION)
    events.subscribe("message.received", on_contact_activity, phase=events.IN_TRANSACTION)
    events.subscribe("conversation.updated", on_conversation_updated, phase=events.IN_TRANSACTION)
    events.subscribe("order.*", on_order, phase=events.IN_TRANSACTION)
    events.subscribe("reservation.confirmed", on_reservation_confirmed, phase=events.IN_TRANSACTION)
    for pattern in ("conversation.opened", "message.received", "conversation.updated", "order.*",
                    "reservation.confirmed"):  # fmt: skip
        events.subscribe(pattern, enqueue_sync, phase=events.AFTER_COMMIT)
