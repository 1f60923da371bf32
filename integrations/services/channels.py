"""Channels as data: creating, editing and disabling channels, and keeping their credentials.

Secrets (app secret, verify token, access token, and any provider extra) live encrypted in
``ChannelCredential``; once saved they are only ever shown masked (``channel_credentials_masked``) and never
logged. Every function checks ``inbox.permissions.can_manage_channels`` first when given the acting user.
"""

from __future__ import annotations

import logging
import re
import secrets as token_generator
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext

from inbox import events, permissions
from inbox.access.services.audit import audit_action  # issue 5: the organization audit log
from inbox.models import Channel, Organization
from integrations.channels.registry import known_providers
from integrations.models import ChannelCredential
from switchboard.crypto import SecretUnreadable, mask

logger = logging.getLogger(__name__)

SECRET_FIELDS = ("app_secret", "verify_token", "access_token")
EXTRA_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_SECRET_LENGTH = 2000


@dataclass(frozen=True)
class ProviderFields:
    """What an admin types for one kind of channel, in the provider's words (forms, API docs, pages)."""

    account_id_label: str
    account_id_help: str
    extras: tuple[tuple[str, str], ...] = ()  # (key, label) of non-secret provider ids shown in full
    needs_verify_token: bool = False


PROVIDER_FIELDS: dict[str, ProviderFields] = {
    "whatsapp": ProviderFields(
        "Phone number id",
        "The WhatsApp Cloud API phone_number_id (not the phone number itself).",
        extras=(("waba_id", "WhatsApp Business Account id"),),
        needs_verify_token=True,
    ),
    "messenger": ProviderFields(
        "Page id", "The Facebook Page id the Messenger conversations belong to.", needs_verify_token=True
    ),
    "tiktok": ProviderFields("TikTok business id", "The TikTok business account's open_id (business_id)."),
    "sandbox": ProviderFields("Account id", "Leave empty: the sandbox generates one."),
}


def provider_fields(kind: str) -> ProviderFields:
    return PROVIDER_FIELDS.get(kind, ProviderFields("Account id", "The provider's id of the business account."))


def _check_manager(user: Any | None, organization: Organization | int, action: str) -> None:
    if user is not None and not permissions.can_manage_channels(user, organization):
        raise PermissionDenied(f"Only owners and admins can {action}.")


def _clean_extra(extra: Mapping[str, str] | None) -> dict[str, str]:
    cleaned: dict[str, str] = {}
    for key, value in (extra or {}).items():
        if not isinstance(key, str) or not EXTRA_KEY.match(key) or key in SECRET_FIELDS:
            raise ValidationError(
                {
                    "extra": gettext("%(value)s is not a valid extra field name (lowercase_words).")
                    % {"value": repr(str(key)[:40])}
                }
            )
        if not isinstance(value, str) or len(value) > MAX_SECRET_LENGTH:
            raise ValidationError(
                {
                    "extra": gettext("%(key)s must be a string of at most %(max_secret_length)s characters.")
                    % {"key": key, "max_secret_length": MAX_SECRET_LENGTH}
                }
            )
        cleaned[key] = value.strip()
    return cleaned


def channel_create(
    *,
    organization: Organization,
    kind: str,
    name: str,
    account_id: str = "",
    app_secret: str = "",
    verify_token: str = "",
    access_token: str = "",
    extra: Mapping[str, str] | None = None,
    created_by: object | None = None,
) -> Channel:
    """Create a channel with its encrypted credentials. A sandbox channel gets generated ones.

    ``created_by`` (when given) must be an owner or admin of the organization. Publishes ``channel.connected``.
    Raises ``ValidationError`` with field keys (``kind``, ``name``, ``account_id``, ``extra``).
    """
    _check_manager(created_by, organization, "add channels")
    if kind not in known_providers():
        raise ValidationError(
            {
                "kind": gettext("Unknown channel kind %(kind)s; expected one of %(value)s.")
                % {"kind": repr(kind), "value": known_providers()}
            }
        )
    if not name.strip():
        raise ValidationError({"name": gettext("A channel needs a name.")})
    account_id = account_id.strip()
    extras = _clean_extra(extra)
    if kind == "sandbox":
        account_id = account_id or f"sandbox-{token_generator.token_hex(6)}"
        app_secret = app_secret or token_generator.token_urlsafe(32)
    elif not account_id:
        raise ValidationError(
            {"account_id": gettext("The provider's account id is required for this kind of channel.")}
        )
    try:
        with transaction.atomic():
            channel = Channel.objects.create(
                organization=organization, kind=kind, name=name.strip(), account_id=account_id
            )
            credential = ChannelCredential(channel=channel)
            credential.store(app_secret=app_secret, verify_token=verify_token, access_token=access_token, **extras)
            credential.save()
            events.publish("channel.connected", organization_id=organization.pk, channel_id=channel.pk, kind=kind)
            audit_action(actor=created_by, action="channel.created", target=channel, details={"kind": kind})
    except IntegrityError as exc:
        raise ValidationError({"account_id": gettext("Another channel already uses this provider account.")}) from exc
    return channel


def channel_update(
    *,
    channel: Channel,
    updated_by: object | None,
    name: str | None = None,
    account_id: str | None = None,
    secrets: Mapping[str, str | None] | None = None,
    extra: Mapping[str, str] | None = None,
) -> Channel:
    """Change a channel's name, account id or credentials. ``None`` (or a missing key) keeps a value.

    In ``secrets`` a string replaces the stored secret and ``""`` clears it; ``extra`` values are merged the
    same way (``""`` removes the key). The kind never changes: create another channel instead.
    """
    _check_manager(updated_by, channel.organization_id, "change channels")
    unknown = set(secrets or {}) - set(SECRET_FIELDS)
    if unknown:
        raise ValidationError(
            {"secrets": gettext("Unknown secret field(s): %(value)s.") % {"value": ", ".join(sorted(unknown))}}
        )
    fields: list[str] = []
    if name is not None:
        if not name.strip():
            raise ValidationError({"name": gettext("A channel needs a name.")})
        channel.name = name.strip()
        fields.append("name")
    if account_id is not None:
        if not account_id.strip() and channel.kind != "sandbox":
            raise ValidationError(
                {"account_id": gettext("The provider's account id is required for this kind of channel.")}
            )
        channel.account_id = account_id.strip()
        fields.append("account_id")
    extras = _clean_extra(extra)
    try:
        with transaction.atomic():
            locked = Channel.objects.select_for_update().get(pk=channel.pk)
            if fields:
                for field in fields:
                    setattr(locked, field, getattr(channel, field))
                locked.save(update_fields=fields)
            if secrets or extras:
                credential, _ = ChannelCredential.objects.get_or_create(channel=locked)
                try:
                    stored = credential.stored_values()
                except SecretUnreadable:  # encrypted with a key no longer configured: what is typed now replaces it
                    stored = {}
                for key, value in {**(secrets or {}), **extras}.items():
                    if value is None:
                        continue
                    if value == "":
                        stored.pop(key, None)
                    else:
                        stored[key] = value
                credential.store(**stored)
                credential.save()
            audit_action(
                actor=updated_by, action="channel.secret_rotated" if secrets else "channel.updated", target=locked
            )
    except IntegrityError as exc:
        raise ValidationError({"account_id": gettext("Another channel already uses this provider account.")}) from exc
    channel.refresh_from_db()
    return channel


def _set_status(channel: Channel, status: str, event: str) -> Channel:
    with transaction.atomic():
        updated = Channel.objects.filter(pk=channel.pk).exclude(status=status).update(status=status)
        if updated:
            events.publish(event, organization_id=channel.organization_id, channel_id=channel.pk, kind=channel.kind)
    channel.refresh_from_db()
    return channel


def channel_disable(*, channel: Channel, disabled_by: object | None) -> Channel:
    """Disable a channel: agents can no longer reply through it. History (conversations, messages) is kept.

    Publishes ``channel.disconnected`` once; disabling a disabled channel changes nothing.
    """
    _check_manager(disabled_by, channel.organization_id, "disable channels")
    audit_action(actor=disabled_by, action="channel.disabled", target=channel)
    return _set_status(channel, Channel.Status.DISABLED, "channel.disconnected")


def channel_enable(*, channel: Channel, enabled_by: object | None) -> Channel:
    """Make a disabled (or needs-reauthorization) channel active again. Publishes ``channel.connected``."""
    _check_manager(enabled_by, channel.organization_id, "enable channels")
    audit_action(actor=enabled_by, action="channel.enabled", target=channel)
    return _set_status(channel, Channel.Status.ACTIVE, "channel.connected")


def channel_credentials_masked(channel: Channel) -> dict[str, str]:
    """What may be shown of a channel's credentials: secrets masked, known non-secret ids in full.

    A credential that cannot be decrypted (rotated key) shows as unreadable rather than failing the page.
    """
    credential = getattr(channel, "credential", None)
    if credential is None:
        return {}
    try:
        stored = credential.stored_values()
    except SecretUnreadable:  # the page still renders and says what to do
        return {"error": "unreadable: re-enter the secrets (FIELD_ENCRYPTION_KEY changed)"}
    plain = {key for key, _ in provider_fields(channel.kind).extras}
    return {key: (value if key in plain else mask(value)) for key, value in sorted(stored.items()) if value}


def channel_webhook_url(channel: Channel) -> str:
    """The per-channel callback URL, verified with this channel's own app secret (bring-your-own-app)."""
    path = reverse("integrations:channel-webhook", kwargs={"provider": channel.kind, "channel_id": channel.pk})
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


def app_webhook_url(kind: str) -> str:
    """The Messaging Partner app's single callback URL for a provider, routed by account id."""
    return settings.PUBLIC_BASE_URL.rstrip("/") + reverse("integrations:app-webhook", kwargs={"provider": kind})


# -- Connections (integrations.connections): OAuth reconnect, failed refresh, disconnect ----------------------
def channel_reconnect(
    *,
    channel: Channel,
    access_token: str,
    extra: Mapping[str, str] | None = None,
    app_secret: str | None = None,
    verify_token: str | None = None,
    reconnected_by: object | None = None,
) -> Channel:
    """Store the credentials of a new authorization for an existing channel and make it active again.

    Keeps the channel (and its conversations); replaces the access token and merges ``extra``. Publishes
    ``channel.connected`` when the channel was not active.
    """
    _check_manager(reconnected_by, channel.organization_id, "reconnect channels")
    extras = _clean_extra(extra)
    with transaction.atomic():
        locked = Channel.objects.select_for_update().get(pk=channel.pk)
        credential, _ = ChannelCredential.objects.get_or_create(channel=locked)
        try:
            stored = credential.stored_values()
        except SecretUnreadable:  # a rotated-away key: the new authorization replaces everything
            stored = {}
        stored.update(extras)
        stored["access_token"] = access_token
        if app_secret is not None:
            stored["app_secret"] = app_secret
        if verify_token is not None:
            stored["verify_token"] = verify_token
        credential.store(**stored)
        credential.save()
        audit_action(actor=reconnected_by, action="channel.reconnected", target=locked)
        return _set_status(locked, Channel.Status.ACTIVE, "channel.connected")


def channel_mark_needs_reauthorization(*, channel: Channel) -> Channel:
    """The provider no longer accepts the channel's token: sending pauses until an admin reconnects.

    Only an active channel moves (a disabled one stays disabled). No event: nothing was disconnected.
    """
    Channel.objects.filter(pk=channel.pk, status=Channel.Status.ACTIVE).update(
        status=Channel.Status.NEEDS_REAUTHORIZATION
    )
    channel.refresh_from_db()
    return channel


def channel_authorization_revoked(*, channel: Channel, reason: str) -> Channel:
    """The provider says the account withdrew our access (TikTok ``authorization.removed``).

    Sending stops with "reconnect" (the channel needs reauthorization) and its OAuth connection, if any, says
    why. Idempotent: a repeated delivery changes nothing more. A disabled channel stays disabled.
    """
    from integrations.connections.models import Connection  # the OAuth side, when the channel came from it

    with transaction.atomic():
        channel = channel_mark_needs_reauthorization(channel=channel)
        Connection.objects.filter(channel_id=channel.pk, status=Connection.Status.ACTIVE).update(
            status=Connection.Status.NEEDS_REAUTHORIZATION, last_error=f"Access removed at the provider: {reason}"[:500]
        )
    logger.warning("channel authorization removed at the provider", extra={"channel_id": channel.pk})
    return channel


def channel_disconnect(*, channel: Channel, disconnected_by: object | None) -> Channel:
    """Disconnect a channel: delete its stored secrets and disable it, at once. History is kept.

    Publishes ``channel.disconnected`` (sending stops: the outbound path refuses a channel that is not active).
    """
    _check_manager(disconnected_by, channel.organization_id, "disconnect channels")
    with transaction.atomic():
        ChannelCredential.objects.filter(channel_id=channel.pk).delete()
        audit_action(actor=disconnected_by, action="channel.disconnected", target=channel)
        return _set_status(channel, Channel.Status.DISABLED, "channel.disconnected")
