"""Switchboard as an OAuth client: authorization requests in flight, connected accounts, advertiser grants, audit.

Tokens never live in these rows in clear: a channel's tokens are in ``integrations.ChannelCredential``
(encrypted), an advertiser grant's token in :attr:`AdvertiserGrant.encrypted` (encrypted with the same
``switchboard.crypto`` keys, so key rotation covers both).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

from inbox.models import Channel, Organization
from switchboard.crypto import decrypt_json, encrypt_json


class Provider(models.TextChoices):
    TIKTOK = "tiktok", gettext_lazy("TikTok business account")
    TIKTOK_ADS = "tiktok_ads", gettext_lazy("TikTok for Business advertiser account")
    MESSENGER = "messenger", gettext_lazy("Messenger")
    WHATSAPP = "whatsapp", gettext_lazy("WhatsApp")


class OAuthState(models.Model):
    """One authorization request sent to a provider: bound to the browser session that started it, used once.

    ``session_binding`` is a hash of a random value kept in that session (not the session key, which Django
    rotates at login). ``pending`` holds, encrypted, what a flow must remember between the callback and the
    admin's next choice (Messenger's page list).
    """

    state = models.CharField(max_length=64, unique=True)
    session_binding = models.CharField(max_length=64)
    provider = models.CharField(max_length=20, choices=Provider.choices)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # Set when the request reconnects an existing channel: the callback must bring back the same account.
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    redirect_uri = models.CharField(max_length=500)
    pending = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    consumed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["created_at"], name="oauth_state_created")]

    def __str__(self) -> str:
        return f"{self.provider} authorization {self.pk}"


class Connection(models.Model):
    """A channel connected through its provider's authorization: what was granted, by whom, until when.

    One per channel. Disconnecting keeps the row (and the channel with its conversations) for history.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", gettext_lazy("Connected")
        NEEDS_REAUTHORIZATION = "needs_reauthorization", gettext_lazy("Needs reauthorization")
        DISCONNECTED = "disconnected", gettext_lazy("Disconnected")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="connections")
    provider = models.CharField(max_length=20, choices=Provider.choices)
    channel = models.OneToOneField(Channel, on_delete=models.CASCADE, related_name="connection")
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.ACTIVE)
    account_name = models.CharField(max_length=200, blank=True, default="")
    # Non-secret facts shown on the card: username, display name, avatar, verified name, page name, WABA id.
    profile = models.JSONField(default=dict, blank=True)
    scopes = models.JSONField(default=list, blank=True)
    access_expires_at = models.DateTimeField(null=True, blank=True)
    refresh_expires_at = models.DateTimeField(null=True, blank=True)
    last_refreshed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")
    webhook_subscribed_at = models.DateTimeField(null=True, blank=True)
    connected_at = models.DateTimeField(default=timezone.now)
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    disconnected_at = models.DateTimeField(null=True, blank=True)
    disconnected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["status", "access_expires_at"], name="connection_refresh_due")]

    def __str__(self) -> str:
        return f"{self.get_provider_display()}: {self.account_name or self.channel_id}"


class AdvertiserGrant(models.Model):
    """A TikTok for Business advertiser authorization: the long-lived token and the advertisers it covers.

    ``signals`` owns what is reported; this row only holds the grant. When the admin has picked the advertiser
    and the event set, ``advertiser.connected`` is published for ``signals`` to attach it.
    """

    class Status(models.TextChoices):
        AWAITING_CHOICE = "awaiting_choice", gettext_lazy("Pick an advertiser")
        ACTIVE = "active", gettext_lazy("Connected")
        DISCONNECTED = "disconnected", gettext_lazy("Disconnected")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="advertiser_grants")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.AWAITING_CHOICE)
    advertiser_ids = models.JSONField(default=list, blank=True)
    advertiser_id = models.CharField(max_length=64, blank=True, default="")
    event_set_id = models.CharField(max_length=64, blank=True, default="")
    scopes = models.JSONField(default=list, blank=True)
    encrypted = models.TextField(blank=True, default="")
    connected_at = models.DateTimeField(default=timezone.now)
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    disconnected_at = models.DateTimeField(null=True, blank=True)
    disconnected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"Advertiser grant {self.pk} ({self.status})"

    def store_token(self, access_token: str) -> None:
        self.encrypted = encrypt_json({"access_token": access_token}) if access_token else ""

    def access_token(self) -> str:
        return str(decrypt_json(self.encrypted).get("access_token", ""))


class ConnectionAudit(models.Model):
    """Who connected, reconnected, disconnected or revoked what, and when. Never holds a secret."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=40)
    provider = models.CharField(max_length=20, blank=True, default="")
    subject = models.CharField(max_length=200, blank=True, default="")
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["organization", "-created_at"], name="connection_audit_recent")]
        constraints = [models.CheckConstraint(condition=~Q(action=""), name="connection_audit_has_action")]

    def __str__(self) -> str:
        return f"{self.action} {self.subject}"
