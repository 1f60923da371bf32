"""Read-mostly admin views for operators. Encrypted columns are never shown."""

from django.contrib import admin

from integrations.connections.models import (
    AdvertiserGrant,
    AppAuthorization,
    Connection,
    ConnectionAudit,
    WebhookDelivery,
    WebhookSubscription,
)


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    list_display = ("account_name", "provider", "organization", "status", "access_expires_at", "connected_at")
    list_filter = ("provider", "status")
    readonly_fields = ("channel", "connected_by", "disconnected_by")


@admin.register(AdvertiserGrant)
class AdvertiserGrantAdmin(admin.ModelAdmin):
    list_display = ("pk", "organization", "status", "advertiser_id", "event_set_id", "connected_at")
    exclude = ("encrypted",)


@admin.register(ConnectionAudit)
class ConnectionAuditAdmin(admin.ModelAdmin):
    list_display = ("created_at", "organization", "actor", "action", "provider", "subject")
    list_filter = ("action", "provider")

    def has_change_permission(self, request, obj=None) -> bool:  # noqa: ANN001 - the audit trail is append-only
        return False


@admin.register(AppAuthorization)
class AppAuthorizationAdmin(admin.ModelAdmin):
    list_display = ("application", "organization", "user", "scope", "last_used_at", "revoked_at")


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    list_display = ("url", "kind", "organization", "authorization", "is_active", "failing_since", "last_success_at")
    list_filter = ("kind", "is_active")
    exclude = ("encrypted_secret",)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("event_id", "event", "subscription", "status", "attempts", "next_attempt_at")
    list_filter = ("status", "event")
