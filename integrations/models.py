"""The outside world's rows: raw webhook deliveries, encrypted channel credentials, the sandbox provider."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy

from inbox.models import Channel
from integrations.channels.base import ChannelSecrets
from switchboard.crypto import decrypt_json, encrypt_json


class InboundWebhook(models.Model):
    """One delivery exactly as received: kept before processing so that nothing accepted is ever lost."""

    class Status(models.TextChoices):
        RECEIVED = "received", gettext_lazy("Received")
        PROCESSED = "processed", gettext_lazy("Processed")
        FAILED = "failed", gettext_lazy("Failed")

    provider = models.CharField(max_length=20)
    # Null for app-level deliveries, which may carry entries for several channels.
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.SET_NULL, related_name="webhooks")
    body = models.BinaryField()
    body_sha256 = models.CharField(max_length=64)
    headers = models.JSONField(default=dict)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RECEIVED)
    error = models.TextField(blank=True, default="")
    notes = models.JSONField(default=list, blank=True)  # ignored events and unknown accounts, with reasons
    attempts = models.PositiveSmallIntegerField(default=0)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    # The channels an app-level delivery's entries were routed to: how each organization's admins see the
    # deliveries that concerned them (and a channel's "last webhook received") without seeing the others'.
    routed_channels = models.ManyToManyField(Channel, blank=True, related_name="routed_webhooks")

    class Meta:
        constraints = [
            # A provider re-delivering the same body (retries are normal) is acknowledged and ignored.
            models.UniqueConstraint(fields=["provider", "channel", "body_sha256"], name="webhook_unique_delivery"),
            # NULLs are distinct in a unique index: app-level deliveries (no channel) need their own.
            models.UniqueConstraint(
                fields=["provider", "body_sha256"],
                condition=models.Q(channel__isnull=True),
                name="webhook_unique_app_delivery",
            ),
        ]
        indexes = [models.Index(fields=["status", "received_at"], name="webhook_status_received")]

    def __str__(self) -> str:
        return f"{self.provider} webhook {self.pk} ({self.status})"


class WebhookRejection(models.Model):
    """Failed signature or handshake checks, counted per provider, channel, reason and day for admins."""

    provider = models.CharField(max_length=20)
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=200)
    day = models.DateField()
    count = models.PositiveIntegerField(default=0)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "channel", "reason", "day"], name="rejection_unique_bucket"),
            models.UniqueConstraint(
                fields=["provider", "reason", "day"],
                condition=models.Q(channel__isnull=True),
                name="rejection_unique_app_bucket",
            ),
        ]


class ChannelCredential(models.Model):
    """A channel's secrets (app secret, verify token, access token), encrypted at rest, never logged."""

    channel = models.OneToOneField(Channel, on_delete=models.CASCADE, related_name="credential")
    encrypted = models.TextField(default="")
    updated_at = models.DateTimeField(auto_now=True)

    def store(self, **values: str) -> None:
        self.encrypted = encrypt_json({k: v for k, v in values.items() if v is not None})

    def stored_values(self) -> dict[str, str]:
        """Every stored value (secrets and provider extras), decrypted. Never log the result."""
        return {str(k): str(v) for k, v in decrypt_json(self.encrypted).items()}

    def secrets(self) -> ChannelSecrets:
        data = decrypt_json(self.encrypted)
        known = {"app_secret", "verify_token", "access_token"}
        return ChannelSecrets(
            account_id=self.channel.account_id,
            app_secret=data.get("app_secret", ""),
            verify_token=data.get("verify_token", ""),
            access_token=data.get("access_token", ""),
            extra={k: v for k, v in data.items() if k not in known},
        )


class SandboxMessage(models.Model):
    """The sandbox provider's own mailbox: what the simulated customer wrote and what the business answered."""

    class Side(models.TextChoices):
        CUSTOMER = "customer", gettext_lazy("Customer")
        BUSINESS = "business", gettext_lazy("Business")

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="sandbox_messages")
    customer_id = models.CharField(max_length=191)
    side = models.CharField(max_length=10, choices=Side.choices)
    external_id = models.CharField(max_length=64, unique=True)
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["channel", "customer_id", "id"], name="sandbox_thread")]


class MessageTemplate(models.Model):
    """A message template of a channel's provider account (WhatsApp), as last synced from the account.

    Only ``APPROVED`` templates may be sent; the others are kept so admins see why one is missing. A template is
    one ``(name, language)`` pair: the same name in two languages is two rows.
    """

    APPROVED = "APPROVED"

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="message_templates")
    name = models.CharField(max_length=512)
    language = models.CharField(max_length=20)
    status = models.CharField(max_length=20)
    category = models.CharField(max_length=40, blank=True, default="")
    components = models.JSONField(default=list, blank=True)
    body_text = models.TextField(blank=True, default="")
    body_parameter_count = models.PositiveSmallIntegerField(default=0)
    synced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "name", "language"], name="template_unique_per_channel"),
        ]
        ordering = ["name", "language"]

    def __str__(self) -> str:
        return f"{self.name} ({self.language}, {self.status})"

    @property
    def is_approved(self) -> bool:
        return self.status == self.APPROVED
