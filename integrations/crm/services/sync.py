"""One sync run per organization: contacts in batches first, then deals, meetings and notes, within a time budget.

Runs of the same organization never overlap (a cache lock, Redis in production): HubSpot limits per portal, so
parallel runs would gain nothing, and one run at a time means a contact is never searched for and created twice
concurrently. The lock expires, so a killed worker delays a portal's sync by at most the lease.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Min
from django.urls import reverse
from django.utils import timezone

from inbox.models import Conversation
from integrations.crm.hubspot import client as hs
from integrations.crm.hubspot.client import HubSpotClient, HubSpotError
from integrations.crm.hubspot.properties import deal_properties, meeting_properties, note_body
from integrations.crm.models import CrmLink, CrmSyncItem, HubSpotConnection
from integrations.crm.services import contacts as contact_sync
from integrations.crm.services.connection import hubspot_client
from integrations.crm.services.items import item_fail, item_skip, item_succeed, items_claim
from integrations.crm.services.outbox import sync_item_enqueue

logger = logging.getLogger(__name__)
Operation = CrmSyncItem.Operation


@dataclass
class RunResult:
    processed: int = 0
    locked: bool = False
    more_due: bool = False
    next_due_at: datetime | None = None


def _lock_key(organization_id: int) -> str:
    return f"crm:sync-run:{organization_id}"


def crm_sync_run(*, organization_id: int, time_budget: float = 20.0, client: HubSpotClient | None = None) -> RunResult:
    """Send the organization's due items. Returns what is left: more due now, or when the next retry is due."""
    connection = HubSpotConnection.objects.filter(
        organization_id=organization_id, status=HubSpotConnection.Status.CONNECTED
    ).first()
    result = RunResult()
    if connection is None:
        return result
    token = uuid.uuid4().hex
    lease = int(getattr(settings, "CRM_SENDING_LEASE_SECONDS", 120))
    if not cache.add(_lock_key(organization_id), token, timeout=lease):
        result.locked = True
        return result
    own_client = client is None
    client = client or hubspot_client(connection)
    deadline = time.monotonic() + time_budget
    try:
        while time.monotonic() < deadline:
            items = items_claim(organization_id=organization_id)
            if not items:
                break
            result.processed += len(items)
            contacts = [i for i in items if i.operation == Operation.CONTACT_UPSERT]
            if contacts:
                contact_sync.contacts_push(connection=connection, client=client, items=contacts)
            for item in items:
                if item.operation == Operation.CONTACT_UPSERT:
                    continue
                connection.refresh_from_db(fields=["status"])
                if not connection.is_active:
                    item_fail(item, HubSpotError("HubSpot needs to be reconnected", status=401), connection=connection)
                    continue
                _push_one(connection, client, item)
    finally:
        if own_client:
            client.close()
        if cache.get(_lock_key(organization_id)) == token:
            cache.delete(_lock_key(organization_id))
    waiting = CrmSyncItem.objects.filter(organization_id=organization_id, status__in=CrmSyncItem.WAITING)
    next_due = waiting.aggregate(at=Min("next_attempt_at"))["at"]
    result.more_due = next_due is not None and next_due <= timezone.now()
    result.next_due_at = next_due
    return result


def _push_one(connection: HubSpotConnection, client: HubSpotClient, item: CrmSyncItem) -> None:
    handlers = {
        Operation.DEAL_UPSERT: _push_deal,
        Operation.MEETING_UPSERT: _push_meeting,
        Operation.NOTE_CREATE: _push_note,
    }
    request: dict[str, Any] = {}
    try:
        handlers[item.operation](connection, client, item, request)
    except HubSpotError as exc:
        item_fail(item, exc, connection=connection, request=request or None)
    except Exception as exc:  # a bug must show in the log, not kill the run for every other item
        logger.exception("CRM sync item %s failed", item.pk)
        item_fail(item, HubSpotError(f"internal error: {exc}", status=None), connection=connection, request=request)


def contact_hubspot_id(connection: HubSpotConnection, client: HubSpotClient, contact_id: Any) -> str | None:
    """The HubSpot id of a local contact, pushing it first when it was never synced (e.g. it predates the
    connection). Raises :class:`HubSpotError` when that push failed."""
    if not contact_id:
        return None
    link = contact_sync.contact_link(connection.organization_id, contact_id)
    if link is not None:
        return link.hubspot_id
    with transaction.atomic():
        item = sync_item_enqueue(
            organization_id=connection.organization_id,
            operation=Operation.CONTACT_UPSERT,
            object_id=contact_id,
            contact_id=int(contact_id),
            event="dependency",
        )
        CrmSyncItem.objects.filter(pk=item.pk).update(status=CrmSyncItem.Status.SENDING)
    item.refresh_from_db()
    contact_sync.contacts_push(connection=connection, client=client, items=[item])
    link = contact_sync.contact_link(connection.organization_id, contact_id)
    if link is None:
        item.refresh_from_db()
        raise HubSpotError(f"its contact could not be sent first: {item.error}", transient=True)
    return link.hubspot_id


def _object_link(connection: HubSpotConnection, object_type: str, local_id: str) -> CrmLink | None:
    return CrmLink.objects.filter(
        organization_id=connection.organization_id, object_type=object_type, local_id=local_id
    ).first()


def _upsert_linked_object(
    connection: HubSpotConnection,
    client: HubSpotClient,
    item: CrmSyncItem,
    request: dict[str, Any],
    *,
    object_type: str,
    hubspot_type: str,
    association_type: int,
    properties_for: Any,
) -> str:
    contact_id = contact_hubspot_id(connection, client, item.contact_id or item.payload.get("contact_id"))
    link = _object_link(connection, object_type, item.object_id)
    properties = properties_for(link is None)
    if link is not None:
        request.update({"method": "PATCH", "object": hubspot_type, "id": link.hubspot_id, "properties": properties})
        answer = client.object_update(hubspot_type, link.hubspot_id, properties)
        hubspot_id = link.hubspot_id
    else:
        request.update({"method": "POST", "object": hubspot_type, "properties": properties, "contact": contact_id})
        answer = client.object_create(
            hubspot_type, properties, contact_id=contact_id, association_type=association_type
        )
        hubspot_id = str(answer["id"])
        CrmLink.objects.get_or_create(
            organization_id=connection.organization_id,
            object_type=object_type,
            local_id=item.object_id,
            defaults={"hubspot_id": hubspot_id},
        )
    item_succeed(item, hubspot_id=hubspot_id, request=request, response=answer, http_status=200 if link else 201)
    return contact_id or ""


def _push_deal(connection: HubSpotConnection, client: HubSpotClient, item: CrmSyncItem, request: dict) -> None:
    order = item.payload
    contact_id = _upsert_linked_object(
        connection, client, item, request,
        object_type=CrmLink.ObjectType.DEAL, hubspot_type="deals", association_type=hs.DEAL_TO_CONTACT,
        properties_for=lambda creating: deal_properties(
            order, stage_mapping=connection.deal_stage_mapping, pipeline=connection.deal_pipeline, creating=creating
        ),
    )  # fmt: skip
    stage = (connection.lifecycle_mapping or {}).get("order_paid")
    if contact_id and stage and (order.get("status") == "paid" or item.event == "order.paid"):
        try:
            client.object_update("contacts", contact_id, {"lifecyclestage": stage})
        except HubSpotError as exc:
            # The deal is in; a lifecycle stage HubSpot will not move (it only moves forward) is noted, not fatal.
            item.error = f"deal sent; lifecycle stage not set: {exc.message}"
            item.save(update_fields=["error", "updated_at"])


def _push_meeting(connection: HubSpotConnection, client: HubSpotClient, item: CrmSyncItem, request: dict) -> None:
    reservation = item.payload
    _upsert_linked_object(
        connection, client, item, request,
        object_type=CrmLink.ObjectType.MEETING, hubspot_type="meetings", association_type=hs.MEETING_TO_CONTACT,
        properties_for=lambda creating: meeting_properties(reservation),
    )  # fmt: skip


def _labels(conversation: Conversation) -> list[str]:
    labels = getattr(conversation, "labels", None)  # labels arrive with the inbox's labels feature
    if labels is None or not hasattr(labels, "values_list"):
        return []
    return sorted(str(name) for name in labels.values_list("name", flat=True))


def _push_note(connection: HubSpotConnection, client: HubSpotClient, item: CrmSyncItem, request: dict) -> None:
    if _object_link(connection, CrmLink.ObjectType.NOTE, item.object_id) is not None:
        item_skip(item, "A note for this conversation is already in HubSpot.")
        return
    conversation = (
        Conversation.objects.select_related("channel", "assignee", "contact").filter(pk=item.object_id).first()
    )
    if conversation is None:
        item_skip(item, "The conversation was deleted before its note was sent.")
        return
    transcript = None
    if connection.include_transcript:
        transcript = [
            (m.sender_user.get_username() if m.sender_user_id else m.get_sender_type_display(), m.body or f"[{m.kind}]")
            for m in conversation.messages.select_related("sender_user").order_by("id")[:500]
        ]
    base = getattr(settings, "PUBLIC_BASE_URL", "").rstrip("/")
    body = note_body(
        channel=f"{conversation.channel.get_kind_display()}: {conversation.channel.name}",
        agent=conversation.assignee.get_username() if conversation.assignee_id else "",
        labels=_labels(conversation),
        url=f"{base}{reverse('inbox:conversation', args=[conversation.pk])}",
        transcript=transcript,
    )
    properties = {"hs_timestamp": str(int(timezone.now().timestamp() * 1000)), "hs_note_body": body}
    item.contact_id = conversation.contact_id
    _upsert_linked_object(
        connection, client, item, request,
        object_type=CrmLink.ObjectType.NOTE, hubspot_type="notes", association_type=hs.NOTE_TO_CONTACT,
        properties_for=lambda creating: properties,
    )  # fmt: skip
