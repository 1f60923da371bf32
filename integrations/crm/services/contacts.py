"""Pushing contacts to HubSpot without duplicates.

The order of trust: (1) a :class:`CrmLink` (a HubSpot id we created or matched earlier) is the truth, and a linked
contact is updated by id; (2) an unlinked contact is searched for by email and phone, once per batch (``IN``
filters), to match a record that existed in HubSpot before; (3) what search does not find is upserted keyed by
email (or by the unique phone property when configured), which HubSpot resolves on its unique index even when
search has not caught up yet; (4) a contact with neither is created, and linked at once.

HubSpot's search is eventually consistent: a record created seconds ago may not be found. Steps 1 and 3 do not
depend on search, which is what makes the sync safe under that delay. The small remaining window is a create
whose answer is lost (worker killed after HubSpot created the record, before the link commits): that contact
would be created again on retry. Setting a unique phone property closes it for contacts with a phone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction

from inbox.models import Contact
from integrations.crm.hubspot.client import HubSpotClient, HubSpotError
from integrations.crm.hubspot.properties import contact_properties, fingerprint
from integrations.crm.models import CrmLink, CrmSyncItem, HubSpotConnection
from integrations.crm.services.items import item_fail, item_skip, item_succeed
from integrations.crm.services.outbox import contact_facts

BATCH_SIZE = 100
SEARCH_PROPERTIES = ["email", "phone", "firstname", "lastname", "lifecyclestage", "hubspot_owner_id"]


@dataclass
class _Pending:
    item: CrmSyncItem
    contact: Contact
    properties: dict[str, str]
    fingerprint: str
    hubspot_id: str = ""
    matched_by: str = ""
    request: dict[str, Any] = field(default_factory=dict)


def link_contact(*, organization_id: int, contact_id: int, hubspot_id: str, fingerprint_: str = "") -> CrmLink:
    """Record (or confirm) which HubSpot contact a local contact is. The first link wins for good."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                return CrmLink.objects.create(
                    organization_id=organization_id,
                    object_type=CrmLink.ObjectType.CONTACT,
                    local_id=str(contact_id),
                    hubspot_id=hubspot_id,
                    pushed_fingerprint=fingerprint_,
                )
        except IntegrityError:
            link = CrmLink.objects.select_for_update().get(
                organization_id=organization_id, object_type=CrmLink.ObjectType.CONTACT, local_id=str(contact_id)
            )
            if fingerprint_ and link.hubspot_id == hubspot_id:
                link.pushed_fingerprint = fingerprint_
                link.save(update_fields=["pushed_fingerprint", "updated_at"])
            return link


def contact_link(organization_id: int, contact_id: int | str | None) -> CrmLink | None:
    if not contact_id:
        return None
    return CrmLink.objects.filter(
        organization_id=organization_id, object_type=CrmLink.ObjectType.CONTACT, local_id=str(contact_id)
    ).first()


def contacts_push(*, connection: HubSpotConnection, client: HubSpotClient, items: Sequence[CrmSyncItem]) -> None:
    """Push claimed contact items (at most :data:`BATCH_SIZE`), recording each item's outcome."""
    organization_id = connection.organization_id
    ids = [int(item.object_id) for item in items]
    contacts = Contact.objects.filter(organization_id=organization_id).in_bulk(ids)
    links = {
        link.local_id: link
        for link in CrmLink.objects.filter(
            organization_id=organization_id, object_type=CrmLink.ObjectType.CONTACT, local_id__in=[str(i) for i in ids]
        )
    }
    linked: list[_Pending] = []
    unlinked: list[_Pending] = []
    for item in items:
        contact = contacts.get(int(item.object_id))
        if contact is None:
            item_skip(item, "The contact was deleted before it was sent.")
            continue
        properties = contact_properties(contact_facts(contact), connection.field_mapping)
        pending = _Pending(item, contact, properties, fingerprint(properties))
        link = links.get(item.object_id)
        if link is not None:
            pending.hubspot_id, pending.matched_by = link.hubspot_id, "link"
            linked.append(pending)
        else:
            unlinked.append(pending)

    if unlinked:
        try:
            _match_by_search(connection, client, unlinked)
        except HubSpotError as exc:
            for pending in unlinked:
                item_fail(pending.item, exc, connection=connection, request={"search": "email/phone"})
            unlinked = []
    linked += [p for p in unlinked if p.hubspot_id]
    fresh = [p for p in unlinked if not p.hubspot_id]

    if linked:
        inputs = []
        for p in linked:
            p.request = {"id": p.hubspot_id, "properties": p.properties, "objectWriteTraceId": str(p.contact.pk)}
            inputs.append(p.request)
        _batch(connection, client, "update", linked, inputs)

    lifecycle = (connection.lifecycle_mapping or {}).get("new_contact", "")
    email_prop = connection.field_mapping.get("email") or ""
    by_key: list[_Pending] = []
    create: list[_Pending] = []
    for p in fresh:
        properties = dict(p.properties)
        if lifecycle:
            properties["lifecyclestage"] = lifecycle
        facts_email = p.properties.get(email_prop, "") if email_prop else ""
        phone = contact_facts(p.contact).phone
        if facts_email:
            p.request = {"idProperty": email_prop, "id": facts_email, "properties": properties}
            by_key.append(p)
        elif phone and connection.phone_id_property:
            properties[connection.phone_id_property] = phone
            p.request = {"idProperty": connection.phone_id_property, "id": phone, "properties": properties}
            by_key.append(p)
        else:
            p.request = {"properties": properties}
            create.append(p)
        p.request["objectWriteTraceId"] = str(p.contact.pk)
    if by_key:
        _batch(connection, client, "upsert", by_key, [p.request for p in by_key])
    if create:
        _batch(connection, client, "create", create, [p.request for p in create])


def _match_by_search(connection: HubSpotConnection, client: HubSpotClient, unlinked: list[_Pending]) -> None:
    """One search for the whole batch: email IN (...) OR phone IN (...). Matches only contacts HubSpot already
    has; a miss is expected for new contacts and for ones created moments ago (eventual consistency)."""
    email_prop = connection.field_mapping.get("email") or ""
    phone_prop = connection.phone_id_property or connection.field_mapping.get("phone") or ""
    emails = {p.properties.get(email_prop, ""): p for p in unlinked if email_prop and p.properties.get(email_prop)}
    phones: dict[str, _Pending] = {}
    for p in unlinked:
        phone = contact_facts(p.contact).phone
        if phone_prop and phone:
            phones[phone] = p
    groups = []
    if emails:
        groups.append({"filters": [{"propertyName": email_prop, "operator": "IN", "values": sorted(emails)}]})
    if phones:
        groups.append({"filters": [{"propertyName": phone_prop, "operator": "IN", "values": sorted(phones)}]})
    if not groups:
        return
    results = client.contacts_search(groups, sorted({*SEARCH_PROPERTIES, phone_prop}))
    for result in results:
        properties = result.get("properties") or {}
        email = (properties.get(email_prop) or "").lower()
        match = emails.get(email) or phones.get(properties.get(phone_prop) or "")
        if match is not None and not match.hubspot_id:
            match.hubspot_id, match.matched_by = str(result["id"]), "search"


def _batch(
    connection: HubSpotConnection, client: HubSpotClient, action: str, pending: list[_Pending], inputs: list[dict]
) -> None:
    try:
        answer = client.contacts_batch(action, inputs)
    except HubSpotError as exc:
        for p in pending:
            item_fail(p.item, exc, connection=connection, request={"action": action, "input": p.request})
        return
    results = answer.get("results") or []
    by_trace = {str(r.get("objectWriteTraceId")): r for r in results if r.get("objectWriteTraceId") is not None}
    errors = answer.get("errors") or []
    for index, p in enumerate(pending):
        result = by_trace.get(str(p.contact.pk))
        if result is None and not by_trace and len(results) == len(pending):
            result = results[index]  # HubSpot echoes no trace id: results follow the inputs' order
        if result is None:
            reason = "; ".join(str(e.get("message")) for e in errors if _error_concerns(e, p)) or (
                "HubSpot returned no result for this contact"
            )
            item_fail(
                p.item,
                HubSpotError(reason, status=400, category="VALIDATION_ERROR", body=errors),
                connection=connection,
                request={"action": action, "input": p.request},
            )
            continue
        hubspot_id = str(result["id"])
        link_contact(
            organization_id=connection.organization_id,
            contact_id=p.contact.pk,
            hubspot_id=hubspot_id,
            fingerprint_=p.fingerprint,
        )
        created = bool(result.get("new")) if action == "upsert" else action == "create"
        item_succeed(
            p.item,
            hubspot_id=hubspot_id,
            request={"action": action, "matched_by": p.matched_by or ("upsert" if action == "upsert" else ""),
                     "input": p.request},
            response={"id": hubspot_id, "new": created, "properties": result.get("properties") or {}},
        )  # fmt: skip


def _error_concerns(error: dict[str, Any], pending: _Pending) -> bool:
    context = error.get("context") or {}
    ids = {str(v) for values in context.values() if isinstance(values, list) for v in values}
    trace = str(error.get("objectWriteTraceId") or "")
    return not ids and not trace or str(pending.contact.pk) in ids | {trace} or pending.request.get("id") in ids
