"""Webhook subscriptions of authorized apps (the ``webhooks:subscribe`` scope): which events an app may ask for,
subscribing and unsubscribing through the API, and the deliveries a domain event makes. Delivery itself is the
shared mechanism of :mod:`.outbound_webhooks`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext

from inbox import events
from integrations.connections.models import AppAuthorization, WebhookDelivery, WebhookSubscription
from integrations.connections.services.configured import outbound_configured
from integrations.connections.services.outbound_webhooks import (
    deliveries_record,
    new_secret,
    private_address_reason,
    subscription_changed,
)
from integrations.connections.subscribers import WEBHOOK_EVENTS

MAX_SUBSCRIPTIONS_PER_AUTHORIZATION = 20


@dataclass(frozen=True)
class CreatedSubscription:
    subscription: WebhookSubscription
    secret: str  # shown to the app once, at creation


def _allowed_events(authorization: AppAuthorization) -> set[str]:
    scopes = set(authorization.scopes)
    if "webhooks:subscribe" not in scopes:
        return set()
    return {name for name, scope in WEBHOOK_EVENTS.items() if scope in scopes}


def subscription_create(*, authorization: AppAuthorization, url: str, event_names: list[str]) -> CreatedSubscription:
    """Subscribe an authorized app to events of its organization. The secret is returned once, never again.

    Needs ``webhooks:subscribe`` plus each event's read scope; production URLs must be HTTPS.
    """
    if authorization.revoked_at is not None:
        raise PermissionDenied("This app's authorization was revoked.")
    allowed = _allowed_events(authorization)
    if not allowed:
        raise PermissionDenied("Subscribing to webhooks needs the webhooks:subscribe scope.")
    names = sorted(set(event_names))
    if not names:
        raise ValidationError(
            {"events": gettext("Name at least one event: %(value)s.") % {"value": ", ".join(sorted(WEBHOOK_EVENTS))}}
        )
    unknown = [n for n in names if n not in WEBHOOK_EVENTS]
    if unknown:
        raise ValidationError(
            {
                "events": gettext("Unknown event(s) %(value)s; known: %(value2)s.")
                % {"value": ", ".join(unknown), "value2": ", ".join(WEBHOOK_EVENTS)}
            }
        )
    refused = [n for n in names if n not in allowed]
    if refused:
        raise PermissionDenied(f"The app's scopes do not cover: {', '.join(refused)}.")
    if not url.startswith("https://") and (settings.PRODUCTION or not url.startswith("http://")):
        raise ValidationError({"url": gettext("The webhook URL must be an https:// URL.")})
    refusal = private_address_reason(url)
    if refusal:
        raise ValidationError(
            {"url": gettext("The webhook URL must point to a public address: %(refusal)s.") % {"refusal": refusal}}
        )
    if authorization.subscriptions.filter(is_active=True).count() >= MAX_SUBSCRIPTIONS_PER_AUTHORIZATION:
        raise ValidationError(
            {
                "url": gettext("An app may have at most %(max_subscriptions_per_authorization)s subscriptions.")
                % {"max_subscriptions_per_authorization": MAX_SUBSCRIPTIONS_PER_AUTHORIZATION}
            }
        )
    secret = new_secret()
    subscription = WebhookSubscription(
        kind=WebhookSubscription.Kind.APP, organization_id=authorization.organization_id, authorization=authorization,
        url=url, events=names,
    )  # fmt: skip
    subscription.store_secret(secret)
    with transaction.atomic():
        subscription.save()
        subscription_changed(subscription)
    return CreatedSubscription(subscription, secret)


def subscription_delete(*, subscription: WebhookSubscription) -> None:
    """Stop a subscription at once: pending deliveries are dropped (marked failed), the log is kept."""
    with transaction.atomic():
        WebhookSubscription.objects.filter(pk=subscription.pk).update(
            is_active=False, disabled_reason="Deleted by the app."
        )
        subscription.deliveries.filter(status=WebhookDelivery.Status.PENDING).update(
            status=WebhookDelivery.Status.FAILED, last_error="subscription deleted"
        )
        subscription_changed(subscription)


def deliveries_create_for_event(*, event: events.DomainEvent) -> list[int]:
    """One pending delivery per active app subscriber of ``event`` in its organization (caller's transaction)."""
    if event.name not in WEBHOOK_EVENTS or not outbound_configured(event.organization_id):
        return []
    subscriptions = WebhookSubscription.objects.filter(
        kind=WebhookSubscription.Kind.APP,
        is_active=True,
        organization_id=event.organization_id,
        authorization__revoked_at__isnull=True,
    ).select_related("authorization")
    wanted = [s for s in subscriptions if event.name in s.events and event.name in _allowed_events(s.authorization)]
    return deliveries_record(subscriptions=wanted, event=event.name, data=event.payload)
