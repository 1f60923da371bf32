"""The CRM outbox: rows written inside the transaction that changed a contact, order, reservation or conversation.

Functions here run from IN_TRANSACTION subscribers (see :mod:`inbox.events`): what they write commits with the
change or not at all, so a sync can never be lost. They only read and write rows; the sync task is enqueued after
commit by :func:`take_written` through the AFTER_COMMIT subscriber.
"""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from inbox.models import Contact, Conversation
from integrations.crm.hubspot.properties import ContactFacts, contact_properties, e164, fingerprint
from integrations.crm.models import CrmLink, CrmSyncItem, HubSpotConnection

Operation = CrmSyncItem.Operation

_local = threading.local()


def _mark_written(organization_id: int) -> None:
    if not hasattr(_local, "written"):
        _local.written = set()
    _local.written.add(organization_id)


def take_written(organization_id: int) -> bool:
    """True once after a transaction of this thread wrote sync items for the organization (then forgotten)."""
    written: set[int] = getattr(_local, "written", set())
    if organization_id in written:
        written.discard(organization_id)
        return True
    return False


def active_connection(organization_id: int) -> HubSpotConnection | None:
    return HubSpotConnection.objects.filter(
        organization_id=organization_id, status=HubSpotConnection.Status.CONNECTED
    ).first()


def sync_item_enqueue(
    *,
    organization_id: int,
    operation: str,
    object_id: str | int,
    contact_id: int | None = None,
    event: str = "",
    payload: dict[str, Any] | None = None,
) -> CrmSyncItem:
    """One waiting item per object: a newer event updates the waiting item's payload instead of adding a row.

    Must run inside the caller's transaction. Safe against a concurrent writer (the partial unique constraint
    decides; the loser updates the winner's row).
    """
    object_id = str(object_id)
    waiting = CrmSyncItem.objects.select_for_update().filter(
        organization_id=organization_id, operation=operation, object_id=object_id, status__in=CrmSyncItem.WAITING
    )
    item = waiting.first()
    if item is None:
        try:
            with transaction.atomic():
                item = CrmSyncItem.objects.create(
                    organization_id=organization_id,
                    operation=operation,
                    object_id=object_id,
                    contact_id=contact_id,
                    event=event,
                    payload=payload or {},
                )
        except IntegrityError:
            item = waiting.get()
    if item.event != event or (payload is not None and item.payload != payload):
        item.event, item.payload = event, payload if payload is not None else item.payload
        item.contact_id = contact_id or item.contact_id
        # A retrying item keeps its backoff: a burst of events must not hammer a HubSpot that is failing.
        item.save(update_fields=["event", "payload", "contact_id", "updated_at"])
    _mark_written(organization_id)
    return item


def contact_facts(contact: Contact) -> ContactFacts:
    """Name, email, E.164 phone (the contact's, else a WhatsApp id, which is the number) and channels."""
    identities = list(contact.identities.select_related("channel").order_by("id"))
    phone = e164(contact.phone)
    if not phone:
        for identity in identities:
            if identity.channel.kind == "whatsapp" and (phone := e164(identity.external_id)):
                break
    name = contact.name or next((i.display_name for i in identities if i.display_name), "")
    base = getattr(settings, "PUBLIC_BASE_URL", "").rstrip("/")
    return ContactFacts(
        id=contact.pk,
        name=name,
        email=contact.email,
        phone=phone,
        channels=tuple(sorted({i.channel.get_kind_display() for i in identities})),
        url=f"{base}/inbox/?contact={contact.pk}",
    )


def contact_needs_push(connection: HubSpotConnection, contact: Contact) -> bool:
    """New to HubSpot, or changed since it was last pushed."""
    link = CrmLink.objects.filter(
        organization_id=contact.organization_id, object_type=CrmLink.ObjectType.CONTACT, local_id=str(contact.pk)
    ).first()
    if link is None:
        return True
    properties = contact_properties(contact_facts(contact), connection.field_mapping)
    return link.pushed_fingerprint != fingerprint(properties)


def crm_contact_changed(*, organization_id: int, contact_id: int, event: str) -> CrmSyncItem | None:
    """A contact appeared or may have changed: queue an upsert when it is new to HubSpot or differs."""
    connection = active_connection(organization_id)
    if connection is None:
        return None
    contact = Contact.objects.filter(pk=contact_id, organization_id=organization_id).first()
    if contact is None or not contact_needs_push(connection, contact):
        return None
    return sync_item_enqueue(
        organization_id=organization_id,
        operation=Operation.CONTACT_UPSERT,
        object_id=contact_id,
        contact_id=contact_id,
        event=event,
    )


def crm_conversation_contact_changed(*, organization_id: int, conversation_id: int, event: str) -> None:
    contact_id = Conversation.objects.filter(pk=conversation_id).values_list("contact_id", flat=True).first()
    if contact_id is not None:
        crm_contact_changed(organization_id=organization_id, contact_id=contact_id, event=event)


def crm_order_changed(*, organization_id: int, order: dict[str, Any], event: str) -> CrmSyncItem | None:
    """An order was created, updated or paid: its deal is created or updated (the payload is the snapshot)."""
    if active_connection(organization_id) is None or not order.get("id"):
        return None
    return sync_item_enqueue(
        organization_id=organization_id,
        operation=Operation.DEAL_UPSERT,
        object_id=order["id"],
        contact_id=order.get("contact_id"),
        event=event,
        payload=order,
    )


def crm_reservation_confirmed(*, organization_id: int, reservation: dict[str, Any], event: str) -> None:
    if active_connection(organization_id) is None or not reservation.get("id"):
        return
    sync_item_enqueue(
        organization_id=organization_id,
        operation=Operation.MEETING_UPSERT,
        object_id=reservation["id"],
        contact_id=reservation.get("contact_id"),
        event=event,
        payload=reservation,
    )


def crm_conversation_resolved(*, organization_id: int, conversation: dict[str, Any], event: str) -> None:
    """One note per resolved conversation (a resolved conversation is never reopened: a new message opens a new
    one), so a second ``conversation.updated`` while resolved adds nothing."""
    if conversation.get("status") != "resolved" or active_connection(organization_id) is None:
        return
    conversation_id = str(conversation["id"])
    if CrmSyncItem.objects.filter(
        organization_id=organization_id, operation=Operation.NOTE_CREATE, object_id=conversation_id
    ).exists():
        return
    contact_id = Conversation.objects.filter(pk=conversation["id"]).values_list("contact_id", flat=True).first()
    sync_item_enqueue(
        organization_id=organization_id,
        operation=Operation.NOTE_CREATE,
        object_id=conversation_id,
        contact_id=contact_id,
        event=event,
        payload={"conversation_id": conversation["id"]},
    )
