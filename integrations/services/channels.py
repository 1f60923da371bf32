"""Creating channels and keeping their credentials."""

from __future__ import annotations

import secrets as token_generator

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from inbox import events, permissions
from inbox.models import Channel, Organization
from integrations.channels.registry import known_providers
from integrations.models import ChannelCredential


def channel_create(
    *,
    organization: Organization,
    kind: str,
    name: str,
    account_id: str = "",
    app_secret: str = "",
    verify_token: str = "",
    access_token: str = "",
    created_by: object | None = None,
) -> Channel:
    """Create a channel with its encrypted credentials. A sandbox channel gets generated ones.

    ``created_by`` (when given) must be an owner or admin of the organization.
    """
    if created_by is not None and not permissions.can_manage_channels(created_by, organization):
        raise PermissionDenied("Only owners and admins can add channels.")
    if kind not in known_providers():
        raise ValidationError({"kind": f"Unknown channel kind {kind!r}; expected one of {known_providers()}."})
    if not name.strip():
        raise ValidationError({"name": "A channel needs a name."})
    if kind == "sandbox":
        account_id = account_id or f"sandbox-{token_generator.token_hex(6)}"
        app_secret = app_secret or token_generator.token_urlsafe(32)
    elif not account_id:
        raise ValidationError({"account_id": "The provider's account id is required for this kind of channel."})
    try:
        with transaction.atomic():
            channel = Channel.objects.create(
                organization=organization, kind=kind, name=name.strip(), account_id=account_id
            )
            credential = ChannelCredential(channel=channel)
            credential.store(app_secret=app_secret, verify_token=verify_token, access_token=access_token)
            credential.save()
            events.publish("channel.connected", organization_id=organization.pk, channel_id=channel.pk, kind=kind)
    except IntegrityError as exc:
        raise ValidationError({"account_id": "Another channel already uses this provider account."}) from exc
    return channel


def channel_webhook_url(channel: Channel) -> str:
    path = reverse("integrations:channel-webhook", kwargs={"provider": channel.kind, "channel_id": channel.pk})
    return settings.PUBLIC_BASE_URL.rstrip("/") + path
