"""Rows of the connections app: client-side connections (TikTok, Meta) and provider-side authorized apps."""

from integrations.connections.models.client import (
    AdvertiserGrant,
    Connection,
    ConnectionAudit,
    OAuthState,
    Provider,
)
from integrations.connections.models.provider import (
    AppAuthorization,
    TokenAuthorization,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)

__all__ = [
    "AdvertiserGrant",
    "AppAuthorization",
    "Connection",
    "ConnectionAudit",
    "OAuthState",
    "Provider",
    "TokenAuthorization",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookSubscription",
]
