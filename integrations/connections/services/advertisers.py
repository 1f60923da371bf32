"""TikTok for Business advertiser accounts, for ``signals``: the grant is kept here, ``signals`` attaches it.

``integrations`` never imports ``signals``. When the admin has picked the advertiser and the message event set,
``advertiser.connected`` is published with ``{grant_id, organization_id, advertiser_id, advertiser_ids,
event_set_id, scope, access_token_encrypted}`` (the token encrypted with ``switchboard.crypto.encrypt_json``
as ``{"access_token": ...}``, so it never travels in clear); ``advertiser.disconnected`` with ``{grant_id,
organization_id, advertiser_ids, scope}`` when it is disconnected: delivery must stop at once.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from inbox import events
from integrations.connections import providers
from integrations.connections.endpoints import Endpoints
from integrations.connections.models import AdvertiserGrant, Provider
from integrations.connections.providers import OAuthError
from integrations.connections.services.accounts import _provider_failure, callback_state, check_can_connect
from integrations.connections.services.audit import audit_record
from integrations.connections.services.states import ConnectError
from switchboard.crypto import SecretUnreadable, encrypt_json


def advertiser_connect_complete(*, user: Any, binding: str, query: dict[str, str], ep: Endpoints) -> AdvertiserGrant:
    """Exchange the one-use ``auth_code`` for the token and the advertiser ids; the admin picks one next."""
    state = callback_state(user=user, provider=Provider.TIKTOK_ADS, binding=binding, query=query)
    try:
        token, advertiser_ids, scopes = providers.ads_exchange_code(
            ep, auth_code=query.get("auth_code") or query.get("code", "")
        )
    except OAuthError as exc:
        if exc.kind == "network":
            raise _provider_failure(exc, Provider.TIKTOK_ADS) from exc
        raise ConnectError("TikTok did not accept the authorization code",
                           f"It may have expired (it lasts an hour) or been used already ({exc.reason}).",
                           provider=Provider.TIKTOK_ADS) from exc
    if not advertiser_ids:
        raise ConnectError("No advertiser account was shared", "Choose at least one advertiser account at TikTok.",
                           provider=Provider.TIKTOK_ADS)
    with transaction.atomic():
        grant = AdvertiserGrant(organization_id=state.organization_id, advertiser_ids=advertiser_ids, scopes=scopes,
                                connected_by=user, advertiser_id=advertiser_ids[0] if len(advertiser_ids) == 1 else "")
        grant.store_token(token)
        grant.save()
        audit_record(organization_id=state.organization_id, actor=user, action="advertiser_authorized",
                     provider=Provider.TIKTOK_ADS, subject=", ".join(advertiser_ids), advertiser_ids=advertiser_ids)
    return grant


def advertiser_grant_choose(
    *, grant: AdvertiserGrant, user: Any, advertiser_id: str, event_set_id: str
) -> AdvertiserGrant:
    """Pick the advertiser and the message event set the organization reports to; publishes
    ``advertiser.connected`` for ``signals``. Changing the choice later publishes it again."""
    check_can_connect(user, grant.organization_id)
    advertiser_id, event_set_id = advertiser_id.strip(), event_set_id.strip()
    errors = {}
    if grant.status == AdvertiserGrant.Status.DISCONNECTED:
        errors["advertiser_id"] = "This advertiser authorization was disconnected: connect again."
    elif advertiser_id not in grant.advertiser_ids:
        errors["advertiser_id"] = "Pick one of the advertiser accounts TikTok shared."
    if not event_set_id or not event_set_id.isalnum() or len(event_set_id) > 64:
        errors["event_set_id"] = "The event set id from TikTok Events Manager (letters and digits)."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        grant = AdvertiserGrant.objects.select_for_update().get(pk=grant.pk)
        grant.advertiser_id = advertiser_id
        grant.event_set_id = event_set_id
        grant.status = AdvertiserGrant.Status.ACTIVE
        grant.save(update_fields=["advertiser_id", "event_set_id", "status"])
        audit_record(organization_id=grant.organization_id, actor=user, action="advertiser_connected",
                     provider=Provider.TIKTOK_ADS, subject=advertiser_id, event_set_id=event_set_id)
        events.publish(
            "advertiser.connected", organization_id=grant.organization_id, grant_id=grant.pk,
            advertiser_ids=grant.advertiser_ids, advertiser_id=advertiser_id, event_set_id=event_set_id,
            scope=grant.scopes, access_token_encrypted=encrypt_json({"access_token": grant.access_token()}),
        )
    return grant


def advertiser_grant_disconnect(*, grant: AdvertiserGrant, user: Any, ep: Endpoints) -> AdvertiserGrant:
    """Revoke the token at TikTok (``oauth2/revoke_token/``), delete it, publish ``advertiser.disconnected``."""
    check_can_connect(user, grant.organization_id)
    revoke_error = ""
    try:
        token = grant.access_token()
    except SecretUnreadable:
        token = ""
    if token:
        try:
            providers.ads_revoke(ep, access_token=token)
        except OAuthError as exc:
            revoke_error = exc.reason
    with transaction.atomic():
        grant = AdvertiserGrant.objects.select_for_update().get(pk=grant.pk)
        was_active = grant.status != AdvertiserGrant.Status.DISCONNECTED
        grant.store_token("")
        grant.status = AdvertiserGrant.Status.DISCONNECTED
        grant.disconnected_at = timezone.now()
        grant.disconnected_by = user
        grant.save(update_fields=["encrypted", "status", "disconnected_at", "disconnected_by"])
        audit_record(organization_id=grant.organization_id, actor=user, action="advertiser_disconnected",
                     provider=Provider.TIKTOK_ADS, subject=grant.advertiser_id or ", ".join(grant.advertiser_ids),
                     revoked_at_provider=bool(token) and not revoke_error, revoke_error=revoke_error)
        if was_active:
            events.publish("advertiser.disconnected", organization_id=grant.organization_id, grant_id=grant.pk,
                           advertiser_ids=grant.advertiser_ids, scope=grant.scopes)
    return grant
