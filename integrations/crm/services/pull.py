"""Pulling a contact's CRM owner and lifecycle stage from HubSpot, for the conversation sidebar."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from integrations.crm.hubspot.client import HubSpotError
from integrations.crm.models import CrmLink, HubSpotConnection
from integrations.crm.services.connection import connection_mark_unauthorized, hubspot_client

PULL_PROPERTIES = ["lifecyclestage", "hubspot_owner_id", "email", "firstname", "lastname"]


def crm_contact_pull(*, organization_id: int, contact_id: int) -> CrmLink | None:
    """Refresh what HubSpot says about a linked contact (owner, lifecycle stage) into its link.

    Returns None when HubSpot is not connected or the contact was never synced. A HubSpot error is recorded on the
    link (``remote["error"]``) for the panel to show, and never raised: the sidebar must keep working.
    """
    connection = HubSpotConnection.objects.filter(
        organization_id=organization_id, status=HubSpotConnection.Status.CONNECTED
    ).first()
    link = CrmLink.objects.filter(
        organization_id=organization_id, object_type=CrmLink.ObjectType.CONTACT, local_id=str(contact_id)
    ).first()
    if connection is None or link is None:
        return link
    remote: dict[str, Any] = {}
    with hubspot_client(connection, attempts=2, max_wait=3) as client:
        try:
            record = client.object_get("contacts", link.hubspot_id, PULL_PROPERTIES)
            properties = record.get("properties") or {}
            remote = {
                "lifecycle_stage": properties.get("lifecyclestage") or "",
                "owner_id": properties.get("hubspot_owner_id") or "",
                "owner_name": "",
                "owner_email": "",
            }
            if remote["owner_id"]:
                owner = client.owner_get(remote["owner_id"])
                name = " ".join(p for p in (owner.get("firstName"), owner.get("lastName")) if p)
                remote["owner_name"] = name or owner.get("email") or ""
                remote["owner_email"] = owner.get("email") or ""
        except HubSpotError as exc:
            if exc.unauthorized:
                connection_mark_unauthorized(connection=connection, reason=exc.message)
            remote = {**(link.remote or {}), "error": exc.message}
    link.remote = remote
    link.pulled_at = timezone.now()
    link.save(update_fields=["remote", "pulled_at", "updated_at"])
    return link


def stale_contact_links(*, limit: int = 100) -> list[tuple[int, int]]:
    """(organization id, contact id) of linked contacts pulled longest ago, for the periodic refresh."""
    age = timedelta(seconds=float(getattr(settings, "CRM_PULL_MAX_AGE_SECONDS", 3600)))
    connected = HubSpotConnection.objects.filter(status=HubSpotConnection.Status.CONNECTED).values("organization_id")
    links = (
        CrmLink.objects.filter(object_type=CrmLink.ObjectType.CONTACT, organization_id__in=connected)
        .exclude(pulled_at__gte=timezone.now() - age)
        .order_by("pulled_at", "id")
        .values_list("organization_id", "local_id")[:limit]
    )
    return [(org, int(local)) for org, local in links]
