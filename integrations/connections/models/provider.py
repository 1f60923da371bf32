"""Switchboard as an OAuth provider: which organization each app was authorized for, and outbound webhooks.

django-oauth-toolkit owns applications, grants and tokens; these rows add what it does not know: the
organization the user picked on the consent page (carried from the grant to every token issued from it) and
Switchboard's one outbound-webhook mechanism: subscriptions (of authorized apps, and the endpoints admins add
for other CRMs), their deliveries and the attempt log.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy
from oauth2_provider.settings import oauth2_settings

from inbox.models import Organization
from switchboard.crypto import decrypt_json, encrypt_json


class AppAuthorization(models.Model):
    """A user let an application act on one organization with these scopes (the Authorized apps page)."""

    application = models.ForeignKey(oauth2_settings.APPLICATION_MODEL, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="app_authorizations")
    scope = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["application", "user", "organization"], name="app_authorization_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.application} for {self.organization}"

    @property
    def scopes(self) -> list[str]:
        return self.scope.split()


class TokenAuthorization(models.Model):
    """Ties a grant, access token or refresh token of django-oauth-toolkit to its :class:`AppAuthorization`."""

    authorization = models.ForeignKey(AppAuthorization, on_delete=models.CASCADE, related_name="tokens")
    grant = models.OneToOneField(
        oauth2_settings.GRANT_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    access_token = models.OneToOneField(
        oauth2_settings.ACCESS_TOKEN_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    refresh_token = models.OneToOneField(
        oauth2_settings.REFRESH_TOKEN_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )


class WebhookSubscription(models.Model):
    """Someone asked for events at ``url``: an authorized app (``kind=app``, through the API) or an admin for
    another CRM (``kind=crm``, on the CRM webhooks page). Signed with ``secret``; disabled after failing too long.
    """

    class Kind(models.TextChoices):
        APP = "app", gettext_lazy("Authorized app")
        CRM = "crm", gettext_lazy("CRM webhook")

    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.APP)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="webhook_subscriptions")
    authorization = models.ForeignKey(
        AppAuthorization, null=True, blank=True, on_delete=models.CASCADE, related_name="subscriptions"
    )
    url = models.URLField(max_length=500)
    events = models.JSONField(default=list)
    description = models.CharField(max_length=200, blank=True, default="")
    encrypted_secret = models.TextField()
    secret_hint = models.CharField(max_length=24, blank=True, default="")
    is_active = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=300, blank=True, default="")
    failing_since = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="crm") | models.Q(authorization__isnull=False),
                name="webhook_subscription_app_has_authorization",
            ),
        ]

    def __str__(self) -> str:
        return f"Webhook subscription {self.pk} to {self.url}"

    def store_secret(self, secret: str) -> None:
        self.encrypted_secret = encrypt_json({"secret": secret})

    def secret(self) -> str:
        return str(decrypt_json(self.encrypted_secret).get("secret", ""))


class WebhookDelivery(models.Model):
    """One event for one subscriber: retried with backoff until delivered or given up (then ``failed``)."""

    class Status(models.TextChoices):
        PENDING = "pending", gettext_lazy("Pending")
        DELIVERED = "delivered", gettext_lazy("Delivered")
        FAILED = "failed", gettext_lazy("Failed")

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=60)
    event_id = models.UUIDField(default=uuid.uuid4, unique=True)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due"),
            models.Index(fields=["subscription", "-id"], name="webhook_delivery_log"),
        ]

    def __str__(self) -> str:
        return f"{self.event} delivery {self.pk} ({self.status})"


class WebhookAttempt(models.Model):
    """One POST to a subscriber: the delivery log an app owner reads."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    attempted_at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True, default="")
    response_excerpt = models.CharField(max_length=500, blank=True, default="")
    duration_ms = models.PositiveIntegerField(default=0)
    manual = models.BooleanField(default=False)
