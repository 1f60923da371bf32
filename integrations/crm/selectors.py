"""Reads for the CRM pages, scoped to one organization (the caller has checked the user may see it)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.urls import reverse
from django.utils.translation import gettext as _

from inbox.models import Organization
from integrations.connections.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from integrations.connections.selectors import ExtraCard
from integrations.crm.models import CrmLink, CrmSyncItem, HubSpotConnection


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


def webhook_endpoints(*, organization_id: int) -> list[WebhookSubscription]:
    """The organization's CRM webhook endpoints (subscriptions of kind ``crm``)."""
    return list(
        WebhookSubscription.objects.filter(organization_id=organization_id, kind=WebhookSubscription.Kind.CRM).order_by(
            "id"
        )
    )


def webhook_deliveries(*, endpoint: WebhookSubscription) -> QuerySet[WebhookDelivery]:
    """The endpoint's delivery log, newest first, with how long the last attempt took (``duration_ms``)."""
    last_attempt = WebhookAttempt.objects.filter(delivery=OuterRef("pk")).order_by("-id")
    return endpoint.deliveries.annotate(duration_ms=Subquery(last_attempt.values("duration_ms")[:1])).order_by(
        "-created_at", "-id"
    )


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


def connections_card(organization: Organization) -> ExtraCard | None:
    """The HubSpot card on the Connections page: shown once HubSpot was ever connected, with why sync stopped."""
    connection = HubSpotConnection.objects.filter(organization=organization).exclude(connected_at=None).first()
    if connection is None:
        return None
    facts = [(_("Portal"), connection.portal_id or "-"), (_("Connected with"), connection.get_auth_kind_display())]
    if connection.connected_at:
        facts.append((_("Connected"), connection.connected_at.strftime("%Y-%m-%d %H:%M")))
    reason = ""
    if connection.status == HubSpotConnection.Status.NEEDS_REAUTHORIZATION:
        reason = _("Sync to HubSpot is stopped: %(reason)s") % {"reason": connection.last_error or _("no reason given")}
    return ExtraCard(
        key="hubspot",
        title="HubSpot",
        text=_("Keep contacts, deals from orders, meetings and conversation notes in HubSpot."),
        status=connection.status,
        status_label=connection.get_status_display(),
        manage_url=reverse("crm:settings"),
        reason=reason,
        facts=facts,
    )
