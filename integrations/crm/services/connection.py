"""Connecting an organization's HubSpot portal (private-app token or OAuth), disconnecting it, and its settings.

Only owners and admins may change any of this (``inbox.permissions.can_manage_channels``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from inbox import permissions
from inbox.models import Organization
from integrations.crm.hubspot.client import HubSpotClient, HubSpotError
from integrations.crm.models import (
    CONTACT_FIELDS,
    LIFECYCLE_MOMENTS,
    CrmSyncItem,
    HubSpotConnection,
)
from switchboard.crypto import mask

#: Scopes the sync needs; a token missing one is accepted, and the settings page names what will not work.
REQUIRED_SCOPES = (
    "crm.objects.contacts.read",
    "crm.objects.contacts.write",
    "crm.objects.deals.read",
    "crm.objects.deals.write",
    "crm.objects.owners.read",
)
_PROPERTY_NAME = re.compile(r"^[a-z][a-z0-9_]{0,99}$")


def check_can_manage(user: Any, organization: Organization) -> None:
    if not permissions.can_manage_channels(user, organization):
        raise PermissionDenied("Only owners and admins can change the CRM connection.")


def connection_for(organization: Organization) -> HubSpotConnection:
    connection, _ = HubSpotConnection.objects.get_or_create(organization=organization)
    return connection


def hubspot_client(connection: HubSpotConnection, **kwargs: Any) -> HubSpotClient:
    """A client with the connection's token and the portal's shared rate-limiter bucket."""
    token = connection.credentials().get("access_token", "")
    return HubSpotClient(token=token, limiter_key=connection.limiter_key, **kwargs)


def missing_scopes(connection: HubSpotConnection) -> list[str]:
    return [scope for scope in REQUIRED_SCOPES if scope not in (connection.scopes or [])]


def hubspot_connect_private_app(*, organization: Organization, user: Any, token: str) -> HubSpotConnection:
    """Check a private-app token with HubSpot (its portal and scopes), then store it encrypted and start syncing.

    Raises ``ValidationError`` when HubSpot does not accept the token, naming HubSpot's reason.
    """
    check_can_manage(user, organization)
    token = (token or "").strip()
    if not token:
        raise ValidationError("Paste the private app's access token.")
    with HubSpotClient(token=token, limiter_key=f"org-{organization.pk}", attempts=2) as client:
        try:
            info = client.private_app_token_info(token)
        except HubSpotError as exc:
            raise ValidationError(f"HubSpot did not accept this token: {exc.message}") from exc
    return _store(
        organization=organization,
        user=user,
        auth_kind=HubSpotConnection.AuthKind.PRIVATE_APP,
        portal_id=str(info.get("hubId") or info.get("hub_id") or ""),
        scopes=list(info.get("scopes") or []),
        credentials={"access_token": token},
        hint=mask(token),
    )


def hubspot_connect_oauth(
    *, organization: Organization, user: Any, tokens: Mapping[str, Any], info: Mapping[str, Any]
) -> HubSpotConnection:
    """Store tokens obtained through the OAuth callback (see ``integrations.crm.hubspot.oauth``)."""
    check_can_manage(user, organization)
    expires_in = int(tokens.get("expires_in") or 0)
    return _store(
        organization=organization,
        user=user,
        auth_kind=HubSpotConnection.AuthKind.OAUTH,
        portal_id=str(info.get("hub_id") or ""),
        scopes=list(info.get("scopes") or []),
        credentials={
            "access_token": tokens["access_token"],
            "refresh_token": tokens.get("refresh_token", ""),
            "expires_at": time.time() + expires_in if expires_in else None,
        },
        hint=mask(tokens["access_token"]),
    )


def _store(
    *,
    organization: Organization,
    user: Any,
    auth_kind: str,
    portal_id: str,
    scopes: list[str],
    credentials: dict[str, Any],
    hint: str,
) -> HubSpotConnection:
    with transaction.atomic():
        connection = connection_for(organization)
        connection = HubSpotConnection.objects.select_for_update().get(pk=connection.pk)
        connection.store_credentials(**credentials)
        connection.auth_kind = auth_kind
        connection.portal_id = portal_id
        connection.scopes = scopes
        connection.token_hint = hint
        connection.status = HubSpotConnection.Status.CONNECTED
        connection.connected_by = user if getattr(user, "pk", None) else None
        connection.connected_at = timezone.now()
        connection.last_error = ""
        connection.save()
        # Items that waited for a reauthorization go now.
        CrmSyncItem.objects.filter(organization=organization, status=CrmSyncItem.Status.RETRYING).update(
            next_attempt_at=timezone.now()
        )
        transaction.on_commit(lambda: _enqueue_sync(organization.pk))
    return connection


def _enqueue_sync(organization_id: int) -> None:
    from integrations.crm.tasks import sync_organization

    sync_organization.delay(organization_id)


def hubspot_disconnect(*, organization: Organization, user: Any) -> HubSpotConnection:
    """Forget the token and stop syncing; mappings are kept. Waiting items are skipped with the reason."""
    check_can_manage(user, organization)
    with transaction.atomic():
        connection = connection_for(organization)
        connection.encrypted = ""
        connection.token_hint = ""
        connection.status = HubSpotConnection.Status.DISCONNECTED
        connection.save()
        CrmSyncItem.objects.filter(organization=organization, status__in=CrmSyncItem.WAITING).update(
            status=CrmSyncItem.Status.SKIPPED, error="HubSpot was disconnected.", finished_at=timezone.now()
        )
    return connection


def connection_mark_unauthorized(*, connection: HubSpotConnection, reason: str) -> None:
    HubSpotConnection.objects.filter(pk=connection.pk, status=HubSpotConnection.Status.CONNECTED).update(
        status=HubSpotConnection.Status.NEEDS_REAUTHORIZATION, last_error=reason[:500]
    )


def _clean_property(value: str, what: str) -> str:
    value = (value or "").strip()
    if value and not _PROPERTY_NAME.match(value):
        raise ValidationError(
            f"{what}: {value!r} is not a HubSpot internal property name (lower case letters, digits, underscores)."
        )
    return value


def hubspot_settings_update(
    *,
    organization: Organization,
    user: Any,
    field_mapping: Mapping[str, str],
    lifecycle_mapping: Mapping[str, str],
    deal_stage_mapping: Mapping[str, str],
    deal_pipeline: str,
    phone_id_property: str,
    include_transcript: bool,
) -> HubSpotConnection:
    """Save the field, lifecycle and deal-stage mappings and the transcript setting, checking property names."""
    check_can_manage(user, organization)
    fields = {key: _clean_property(field_mapping.get(key, ""), CONTACT_FIELDS[key]) for key in CONTACT_FIELDS}
    used = [p for p in fields.values() if p]
    if len(used) != len(set(used)):
        raise ValidationError("Two Switchboard fields cannot go to the same HubSpot property.")
    lifecycle = {key: (lifecycle_mapping.get(key) or "").strip() for key in LIFECYCLE_MOMENTS}
    stages: dict[str, str] = {}
    for status, stage in deal_stage_mapping.items():
        status, stage = (status or "").strip().lower(), (stage or "").strip()
        if status and stage:
            stages[status] = stage
    pipeline = (deal_pipeline or "").strip() or "default"
    phone_property = _clean_property(phone_id_property, "Unique phone property")
    with transaction.atomic():
        connection = connection_for(organization)
        connection.field_mapping = fields
        connection.lifecycle_mapping = lifecycle
        connection.deal_stage_mapping = stages
        connection.deal_pipeline = pipeline[:64]
        connection.phone_id_property = phone_property
        connection.include_transcript = bool(include_transcript)
        connection.save()
    return connection
