"""Reads for the CRM pages, scoped to one organization (the caller has checked the user may see it)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from integrations.crm.models import CrmLink, CrmSyncItem, HubSpotConnection, WebhookDelivery, WebhookEndpoint


def sync_log(*, organization_id: int, status: str = "") -> QuerySet[CrmSyncItem]:
    items = CrmSyncItem.objects.filter(organization_id=organization_id)
    if status == "failed":
        items = items.filter(status__in=[CrmSyncItem.Status.DEAD, CrmSyncItem.Status.RETRYING])
    elif status:
        items = items.filter(status=status)
    return items.order_by("-created_at", "-id")


def sync_counts(*, organization_id: int) -> dict[str, int]:
    rows = CrmSyncItem.objects.filter(organization_id=organization_id).values("status").annotate(n=Count("id"))
    counts = {status: 0 for status in CrmSyncItem.Status.values}
    counts.update({row["status"]: row["n"] for row in rows})
    counts["failed"] = counts["dead"] + counts["retrying"]
    return counts


def webhook_endpoints(*, organization_id: int) -> list[WebhookEndpoint]:
    return list(WebhookEndpoint.objects.filter(organization_id=organization_id).order_by("id"))


def webhook_deliveries(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    return endpoint.deliveries.order_by("-created_at", "-id")


def contact_panel(*, organization_id: int, contact_id: int) -> dict[str, Any]:
    """What the conversation sidebar shows: connected?, linked?, owner and lifecycle stage as last pulled."""
    connection = HubSpotConnection.objects.filter(organization_id=organization_id).first()
    link = CrmLink.objects.filter(
        organization_id=organization_id, object_type=CrmLink.ObjectType.CONTACT, local_id=str(contact_id)
    ).first()
    portal = connection.portal_id if connection else ""
    return {
        "connected": bool(connection and connection.is_active),
        "link": link,
        "remote": (link.remote if link else {}) or {},
        "hubspot_url": f"https://app.hubspot.com/contacts/{portal}/record/0-1/{link.hubspot_id}"
        if link and portal
        else "",
        "contact_id": contact_id,
    }
