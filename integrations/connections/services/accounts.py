"""Connecting channels through their providers: TikTok business accounts, Messenger pages, WhatsApp numbers.

Every flow checks first (permission, state, provider answers), then writes everything in one transaction
(channel created or reconnected, :class:`Connection`, audit row), so an error at any step leaves nothing
half-created. Provider calls happen before the transaction; none holds a database lock.
"""

from __future__ import annotations

import secrets as token_generator
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from inbox import permissions
from inbox.models import Channel, Organization
from integrations.connections import providers
from integrations.connections.endpoints import Endpoints
from integrations.connections.models import Connection, OAuthState, Provider
from integrations.connections.providers import OAuthError
from integrations.connections.services.audit import audit_record
from integrations.connections.services.states import ConnectError, state_consume, state_create
from integrations.models import ChannelCredential
from integrations.services import channels as channel_services
from switchboard.crypto import SecretUnreadable, decrypt_json, encrypt_json

PAGE_CHOICE_LIFETIME = timedelta(minutes=15)
WHATSAPP_SCOPES = ["whatsapp_business_messaging", "whatsapp_business_management"]


def check_can_connect(user: Any, organization: Organization | int) -> None:
    if not permissions.can_manage_channels(user, organization):
        raise PermissionDenied("Only owners and admins can connect accounts.")


def _provider_failure(exc: OAuthError, provider: str) -> ConnectError:
    if exc.kind == "network":
        return ConnectError(
            "The provider could not be reached", f"{exc.reason}. Nothing was connected.", provider=provider
        )
    return ConnectError(
        "The provider refused the connection", f"{exc.reason}. Nothing was connected.", provider=provider
    )


def connect_start(
    *,
    user: Any,
    organization: Organization,
    provider: str,
    binding: str,
    redirect_uri: str,
    ep: Endpoints,
    channel: Channel | None = None,
) -> str:
    """Start an authorization at ``provider``: the URL to send the admin's browser to."""
    check_can_connect(user, organization)
    if channel is not None and channel.organization_id != organization.pk:
        raise PermissionDenied("This channel belongs to another organization.")
    state = state_create(
        binding=binding,
        provider=provider,
        organization=organization,
        user=user,
        redirect_uri=redirect_uri,
        channel=channel,
    )
    if provider == Provider.TIKTOK:
        return providers.tiktok_authorize_url(ep, redirect_uri=redirect_uri, state=state.state)
    if provider == Provider.TIKTOK_ADS:
        return providers.ads_authorize_url(ep, redirect_uri=redirect_uri, state=state.state)
    if provider == Provider.MESSENGER:
        return providers.messenger_dialog_url(ep, redirect_uri=redirect_uri, state=state.state)
    raise ValidationError(
        {"provider": gettext("%(provider)s is not connected through an authorization page.") % {"provider": provider}}
    )


def callback_state(*, user: Any, provider: str, binding: str, query: dict[str, str]) -> OAuthState:
    """Consume the callback's state and turn a provider error (the admin denied) into a clear ConnectError."""
    state = state_consume(binding=binding, state=query.get("state", ""), provider=provider, user=user)
    check_can_connect(user, state.organization_id)
    error = query.get("error") or query.get("error_code")
    if error:
        description = query.get("error_description") or query.get("error_reason") or error
        if error in ("access_denied", "user_denied", "200") or "denied" in description.lower():
            raise ConnectError(
                "You did not allow access", "The authorization was denied, so nothing was connected.", provider=provider
            )
        raise ConnectError(
            "The provider reported an error", f"{description}. Nothing was connected.", provider=provider
        )
    if not (query.get("code") or query.get("auth_code")):
        raise ConnectError("The answer was incomplete", "The provider sent no authorization code.", provider=provider)
    return state


def _existing_channel(kind: str, account_id: str, state: OAuthState) -> Channel | None:
    """The channel for this provider account, if any; refuses another organization's or a mismatched reconnect."""
    channel = Channel.objects.filter(kind=kind, account_id=account_id).first()
    if state.channel_id and (channel is None or channel.pk != state.channel_id):
        raise ConnectError(
            "A different account was authorized",
            "To reconnect this channel, sign in with the account it was connected with.",
            provider=kind,
        )
    if channel is not None and channel.organization_id != state.organization_id:
        raise ConnectError(
            "This account is connected to another organization",
            "Disconnect it there first, then connect it here.",
            provider=kind,
            retry=False,
        )
    return channel


def _save(
    *,
    state: OAuthState,
    kind: str,
    account_id: str,
    name: str,
    access_token: str,
    extra: dict[str, str],
    profile: dict[str, str],
    scopes: list[str],
    access_expires_at: Any = None,
    refresh_expires_at: Any = None,
    app_secret: str = "",
    verify_token: str = "",
    existing: Channel | None,
    webhook_subscribed: bool = True,
) -> Connection:
    now = timezone.now()
    try:
        with transaction.atomic():
            if existing is None:
                channel = channel_services.channel_create(
                    organization=state.organization,
                    kind=kind,
                    name=name,
                    account_id=account_id,
                    app_secret=app_secret,
                    verify_token=verify_token,
                    access_token=access_token,
                    extra=extra,
                    created_by=state.user,
                )
                action = "connected"
            else:
                channel = channel_services.channel_reconnect(
                    channel=existing,
                    access_token=access_token,
                    extra=extra,
                    app_secret=app_secret or None,
                    verify_token=verify_token or None,
                    reconnected_by=state.user,
                )
                action = "reconnected"
            connection, _ = Connection.objects.update_or_create(
                channel=channel,
                defaults={
                    "organization_id": state.organization_id,
                    "provider": kind,
                    "status": Connection.Status.ACTIVE,
                    "account_name": name,
                    "profile": profile,
                    "scopes": scopes,
                    "access_expires_at": access_expires_at,
                    "refresh_expires_at": refresh_expires_at,
                    "last_refreshed_at": None,
                    "last_error": "",
                    "webhook_subscribed_at": now if webhook_subscribed else None,
                    "connected_at": now,
                    "connected_by": state.user,
                    "disconnected_at": None,
                    "disconnected_by": None,
                },
            )
            audit_record(
                organization_id=state.organization_id,
                actor=state.user,
                action=action,
                provider=kind,
                subject=name,
                channel=channel,
                account_id=account_id,
                scopes=scopes,
            )
    except ValidationError as exc:
        raise ConnectError("The channel could not be saved", "; ".join(exc.messages), provider=kind) from exc
    except IntegrityError as exc:  # a concurrent connect of the same account won the race
        raise ConnectError(
            "This account was connected meanwhile", "Reload the Connections page.", provider=kind
        ) from exc
    return connection


# -- TikTok business account -----------------------------------------------------------------------------------
def tiktok_connect_complete(*, user: Any, binding: str, query: dict[str, str], ep: Endpoints) -> Connection:
    """Finish a TikTok authorization: exchange the code, fetch the business profile, register the webhook,
    then create (or reconnect) the channel with its connection, all or nothing."""
    state = callback_state(user=user, provider=Provider.TIKTOK, binding=binding, query=query)
    code = query.get("code") or query.get("auth_code", "")
    try:
        tokens = providers.tiktok_exchange_code(ep, code=code, redirect_uri=state.redirect_uri)
    except OAuthError as exc:
        if exc.kind == "network":
            raise _provider_failure(exc, Provider.TIKTOK) from exc
        raise ConnectError(
            "TikTok did not accept the authorization code",
            f"It may have expired or been used already ({exc.reason}). Start again.",
            provider=Provider.TIKTOK,
        ) from exc
    existing = _existing_channel(Channel.Kind.TIKTOK, tokens.open_id, state)
    try:
        profile = providers.tiktok_business_profile(ep, access_token=tokens.access_token, business_id=tokens.open_id)
        providers.tiktok_subscribe_webhook(ep, callback_url=channel_services.app_webhook_url("tiktok"))
    except OAuthError as exc:
        raise _provider_failure(exc, Provider.TIKTOK) from exc
    now = timezone.now()
    name = profile.get("display_name") or profile.get("username") or f"TikTok {tokens.open_id[-6:]}"
    return _save(
        state=state,
        kind=Channel.Kind.TIKTOK,
        account_id=tokens.open_id,
        name=name,
        access_token=tokens.access_token,
        extra={"refresh_token": tokens.refresh_token},
        profile=profile,
        scopes=tokens.scopes or list(providers.TIKTOK_SCOPES),
        access_expires_at=now + timedelta(seconds=tokens.expires_in),
        refresh_expires_at=now + timedelta(seconds=tokens.refresh_expires_in),
        app_secret=ep.tiktok_client_secret,
        existing=existing,
    )


# -- Messenger ------------------------------------------------------------------------------------------------
def messenger_connect_complete(*, user: Any, binding: str, query: dict[str, str], ep: Endpoints) -> OAuthState:
    """Exchange the code for a user token and list the admin's pages; the admin picks one next
    (:func:`messenger_page_choose`). The page tokens wait, encrypted, on the consumed state."""
    state = callback_state(user=user, provider=Provider.MESSENGER, binding=binding, query=query)
    try:
        user_token = providers.messenger_exchange_code(ep, code=query.get("code", ""), redirect_uri=state.redirect_uri)
        pages = providers.messenger_pages(ep, user_token=user_token)
    except OAuthError as exc:
        if exc.kind == "invalid_grant":
            raise ConnectError(
                "Meta did not accept the authorization code",
                f"It may have expired or been used already ({exc.reason}). Start again.",
                provider=Provider.MESSENGER,
            ) from exc
        raise _provider_failure(exc, Provider.MESSENGER) from exc
    if not pages:
        raise ConnectError(
            "No Page was shared", "Choose at least one Facebook Page when Facebook asks.", provider=Provider.MESSENGER
        )
    state.pending = encrypt_json({"pages": pages})
    state.save(update_fields=["pending"])
    return state


def messenger_pages_pending(*, user: Any, binding: str, state_value: str) -> tuple[OAuthState, list[dict[str, str]]]:
    """The page list waiting for the admin's choice (names and ids only are shown)."""
    from integrations.connections.services.states import _hash

    state = (
        OAuthState.objects.select_related("organization", "user", "channel")
        .filter(state=state_value, provider=Provider.MESSENGER)
        .first()
    )
    if (
        state is None
        or not state.pending
        or state.user_id != getattr(user, "pk", None)
        or state.session_binding != _hash(binding)
        or timezone.now() - state.created_at > PAGE_CHOICE_LIFETIME
    ):
        raise ConnectError(
            "This page choice is no longer available",
            "Start the Messenger connection again.",
            provider=Provider.MESSENGER,
        )
    check_can_connect(user, state.organization_id)
    try:
        pages = decrypt_json(state.pending).get("pages", [])
    except SecretUnreadable as exc:
        raise ConnectError("This page choice is no longer readable", "Start again.", provider="messenger") from exc
    return state, pages


def messenger_page_choose(*, user: Any, binding: str, state_value: str, page_id: str, ep: Endpoints) -> Connection:
    """Subscribe the chosen page to the app's webhooks and create (or reconnect) its channel."""
    state, pages = messenger_pages_pending(user=user, binding=binding, state_value=state_value)
    page = next((p for p in pages if p["id"] == page_id), None)
    if page is None:
        raise ConnectError("That Page was not shared", "Pick one of the listed Pages.", provider=Provider.MESSENGER)
    existing = _existing_channel(Channel.Kind.MESSENGER, page["id"], state)
    try:
        providers.messenger_subscribe_page(ep, page_id=page["id"], page_token=page["access_token"])
    except OAuthError as exc:
        raise _provider_failure(exc, Provider.MESSENGER) from exc
    connection = _save(
        state=state,
        kind=Channel.Kind.MESSENGER,
        account_id=page["id"],
        name=page["name"],
        access_token=page["access_token"],
        extra={},
        profile={"page_name": page["name"]},
        scopes=list(providers.MESSENGER_SCOPES),
        app_secret=ep.meta_app_secret,
        verify_token=settings.META_VERIFY_TOKEN or token_generator.token_urlsafe(16),
        existing=existing,
    )
    OAuthState.objects.filter(pk=state.pk).update(pending="")
    return connection


# -- WhatsApp -------------------------------------------------------------------------------------------------
def whatsapp_connect(
    *, user: Any, organization: Organization, phone_number_id: str, waba_id: str, access_token: str, ep: Endpoints
) -> Connection:
    """Connect a WhatsApp number with a system-user token, validated by the Graph API before anything is saved."""
    check_can_connect(user, organization)
    phone_number_id, waba_id, access_token = phone_number_id.strip(), waba_id.strip(), access_token.strip()
    errors = {}
    for key, value in (("phone_number_id", phone_number_id), ("waba_id", waba_id)):
        if not value.isdigit():
            errors[key] = "Digits only, as shown in Meta's WhatsApp Manager."
    if not access_token:
        errors["access_token"] = "Paste the system user's access token."
    if errors:
        raise ValidationError(errors)
    try:
        number = providers.whatsapp_validate(ep, phone_number_id=phone_number_id, waba_id=waba_id, token=access_token)
    except OAuthError as exc:
        raise ValidationError(
            {"access_token": gettext("Meta did not accept these details: %(reason)s.") % {"reason": exc.reason}}
        ) from exc
    state = OAuthState(organization=organization, user=user)  # not stored: carries who and where to _save
    existing = Channel.objects.filter(kind=Channel.Kind.WHATSAPP, account_id=phone_number_id).first()
    if existing is not None and existing.organization_id != organization.pk:
        raise ValidationError({"phone_number_id": gettext("This number is connected to another organization.")})
    name = number.get("verified_name") or number.get("display_phone_number") or f"WhatsApp {phone_number_id}"
    try:
        return _save(
            state=state,
            kind=Channel.Kind.WHATSAPP,
            account_id=phone_number_id,
            name=name,
            access_token=access_token,
            extra={"waba_id": waba_id},
            profile={**number, "waba_id": waba_id},
            scopes=WHATSAPP_SCOPES,
            app_secret=ep.meta_app_secret,
            verify_token=settings.META_VERIFY_TOKEN or token_generator.token_urlsafe(16),
            existing=existing,
        )
    except ConnectError as exc:
        raise ValidationError({"phone_number_id": exc.reason}) from exc


# -- Disconnect -----------------------------------------------------------------------------------------------
def connection_disconnect(*, connection: Connection, user: Any, ep: Endpoints) -> Connection:
    """Revoke at the provider where its API allows, then delete the stored secret and disable the channel at
    once (``channel.disconnected``). Conversations stay. A failed revocation is recorded, never blocking."""
    check_can_connect(user, connection.organization_id)
    channel = connection.channel
    revoke_error = ""
    credential = ChannelCredential.objects.filter(channel=channel).first()
    try:
        stored = credential.stored_values() if credential is not None else {}
    except SecretUnreadable:
        stored = {}
    token = stored.get("access_token", "")
    try:
        if token and connection.provider == Provider.TIKTOK:
            providers.tiktok_revoke(ep, access_token=token)
        elif token and connection.provider == Provider.MESSENGER:
            providers.messenger_unsubscribe_page(ep, page_id=channel.account_id, page_token=token)
        # WhatsApp system-user tokens belong to the business's Meta account: only it can revoke them.
    except OAuthError as exc:
        revoke_error = exc.reason
    with transaction.atomic():
        channel_services.channel_disconnect(channel=channel, disconnected_by=user)
        connection.status = Connection.Status.DISCONNECTED
        connection.disconnected_at = timezone.now()
        connection.disconnected_by = user
        connection.access_expires_at = None
        connection.save(update_fields=["status", "disconnected_at", "disconnected_by", "access_expires_at"])
        audit_record(
            organization_id=connection.organization_id,
            actor=user,
            action="disconnected",
            provider=connection.provider,
            subject=connection.account_name,
            channel=channel,
            revoked_at_provider=bool(token) and not revoke_error,
            revoke_error=revoke_error,
        )
    return connection
