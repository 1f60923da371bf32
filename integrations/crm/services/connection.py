"""Connecting an organization's HubSpot portal (private-app token or OAuth), disconnecting it, and its settings.

Only owners and admins may change any of this (``inbox.permissions.can_manage_channels``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from inbox import permissions
from inbox.models import Organization
from integrations.connections.services.configured import outbound_changed
from integrations.connections.services.tokens import refresh_lock
from integrations.crm.hubspot import oauth
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
    """A client with the connection's token and the portal's shared rate-limiter bucket. An OAuth token about to
    expire is renewed first, and one HubSpot answers 401 to is renewed and the request retried once."""
    if connection.auth_kind != HubSpotConnection.AuthKind.OAUTH:
        token = connection.credentials().get("access_token", "")
        return HubSpotClient(token=token, limiter_key=connection.limiter_key, **kwargs)
    return HubSpotClient(
        token=None,  # fetched (and renewed if due) at the first request
        limiter_key=connection.limiter_key,
        renew_token=lambda rejected: hubspot_access_token(connection, rejected=rejected),
        **kwargs,
    )


def _usable(credentials: Mapping[str, Any], rejected: str | None) -> bool:
    ahead = float(getattr(settings, "HUBSPOT_REFRESH_AHEAD_SECONDS", 300))
    expires_at = credentials.get("expires_at")
    token = credentials.get("access_token", "")
    return bool(token) and token != rejected and (not expires_at or float(expires_at) - ahead > time.time())


def hubspot_access_token(connection: HubSpotConnection, *, rejected: str | None = None) -> str:
    """The OAuth access token to call HubSpot with, renewed with the refresh token when it expires within
    ``HUBSPOT_REFRESH_AHEAD_SECONDS`` or when HubSpot refused it (``rejected``).

    One process refreshes at a time (the connections app's ``refresh_lock``, shared through the cache); the
    others wait for it and use the token it stored. A refusal marks the connection needs-reauthorization (sync
    stops, the reason shows on the CRM and Connections pages) and raises an unauthorized :class:`HubSpotError`;
    a network failure raises a transient one (the item is retried later).
    """
    connection.refresh_from_db(fields=["encrypted", "status", "last_error"])
    if _usable(connection.credentials(), rejected):
        return connection.credentials()["access_token"]
    deadline = time.monotonic() + float(getattr(settings, "HUBSPOT_REFRESH_WAIT_SECONDS", 20))
    while True:
        with refresh_lock(f"crm:hubspot-refresh:{connection.pk}", timeout=60) as acquired:
            if acquired:
                return _refresh_locked(connection, rejected)
        time.sleep(0.05)
        connection.refresh_from_db(fields=["encrypted", "status", "last_error"])
        if connection.status != HubSpotConnection.Status.CONNECTED:
            raise HubSpotError(connection.last_error or "HubSpot needs to be reconnected", status=401)
        if _usable(connection.credentials(), rejected):
            return connection.credentials()["access_token"]
        if time.monotonic() > deadline:
            raise HubSpotError("another worker is still renewing the HubSpot token", transient=True)


def _refresh_locked(connection: HubSpotConnection, rejected: str | None) -> str:
    # Re-read under the lock: the previous holder may have renewed the token since we looked.
    connection.refresh_from_db()
    credentials = connection.credentials()
    if _usable(credentials, rejected):
        return credentials["access_token"]
    if connection.status != HubSpotConnection.Status.CONNECTED:
        raise HubSpotError(connection.last_error or "HubSpot needs to be reconnected", status=401)
    try:
        tokens = oauth.refresh_tokens(refresh_token=credentials.get("refresh_token", ""))
    except HubSpotError as exc:
        if exc.transient:
            raise
        reason = f"{exc.message}. Reconnect HubSpot on the CRM page."
        connection_mark_unauthorized(connection=connection, reason=reason)
        raise HubSpotError(reason, status=401, category=exc.category) from exc
    expires_in = int(tokens.get("expires_in") or 0)
    with transaction.atomic():
        locked = HubSpotConnection.objects.select_for_update().get(pk=connection.pk)
        locked.store_credentials(
            access_token=tokens["access_token"],
            refresh_token=tokens.get("refresh_token") or credentials.get("refresh_token", ""),
            expires_at=time.time() + expires_in if expires_in else None,
        )
        locked.token_hint = mask(tokens["access_token"])
        locked.last_error = ""
        locked.save(update_fields=["encrypted", "token_hint", "last_error", "updated_at"])
    connection.encrypted = locked.encrypted
    return tokens["access_token"]


def missing_scopes(connection: HubSpotConnection) -> list[str]:
    return [scope for scope in REQUIRED_SCOPES if scope not in (connection.scopes or [])]


def hubspot_connect_private_app(*, organization: Organization, user: Any, token: str) -> HubSpotConnection:
    """Check a private-app token with HubSpot (its portal and scopes), then store it encrypted and start syncing.

    Raises ``ValidationError`` when HubSpot does not accept the token, naming HubSpot's reason.
    """
    check_can_manage(user, organization)
    token = (token or "").strip()
    if not token:
        raise ValidationError(gettext("Paste the private app's access token."))
    with HubSpotClient(token=token, limiter_key=f"org-{organization.pk}", attempts=2) as client:
        try:
            info = client.private_app_token_info(token)
        except HubSpotError as exc:
            raise ValidationError(
                gettext("HubSpot did not accept this token: %(message)s") % {"message": exc.message}
            ) from exc
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
        outbound_changed(organization.pk)
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
        outbound_changed(organization.pk)
        CrmSyncItem.objects.filter(organization=organization, status__in=CrmSyncItem.WAITING).update(
            status=CrmSyncItem.Status.SKIPPED, error="HubSpot was disconnected.", finished_at=timezone.now()
        )
    return connection


def connection_mark_unauthorized(*, connection: HubSpotConnection, reason: str) -> None:
    """Stop syncing until an admin reconnects; ``reason`` is shown on the CRM and Connections pages."""
    HubSpotConnection.objects.filter(pk=connection.pk, status=HubSpotConnection.Status.CONNECTED).update(
        status=HubSpotConnection.Status.NEEDS_REAUTHORIZATION, last_error=reason[:500]
    )
    outbound_changed(connection.organization_id)


def _clean_property(value: str, what: str) -> str:
    value = (value or "").strip()
    if value and not _PROPERTY_NAME.match(value):
        raise ValidationError(
            gettext(
                "%(what)s: %(value)s is not a HubSpot internal property name (lower case letters, digits, underscores)."
            )
            % {"what": what, "value": repr(value)}
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
        raise ValidationError(gettext("Two Switchboard fields cannot go to the same HubSpot property."))
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
