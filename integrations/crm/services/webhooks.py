"""Signed webhooks for any other CRM: endpoints an admin configures on the CRM page, and the events they receive.

An endpoint is a :class:`~integrations.connections.models.WebhookSubscription` of kind ``crm``: signing, retries
with backoff, the delivery log, redelivery, the test ping and disabling after failing too long are the one
outbound-webhook mechanism of :mod:`integrations.connections.services.outbound_webhooks`. This module only
decides who may configure what, which events exist, and adds the contact a CRM keys its records on.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils.translation import gettext

from inbox import permissions
from inbox.models import Contact, Conversation, Organization
from integrations.connections.models import WebhookDelivery, WebhookSubscription
from integrations.connections.services import outbound_webhooks
from integrations.connections.services.outbound_webhooks import subscription_changed
from integrations.crm.services.outbox import contact_facts
from switchboard.crypto import mask

#: What an endpoint can subscribe to, in the admin's words.
EVENT_TYPES: dict[str, str] = {
    "conversation.opened": "A customer starts a conversation",
    "message.received": "A customer sends a message",
    "conversation.resolved": "A conversation is resolved",
    "order.created": "An order is created",
    "order.updated": "An order changes",
    "order.paid": "An order is paid",
    "reservation.confirmed": "A reservation is confirmed",
}
CRM = WebhookSubscription.Kind.CRM


def _check_manager(user: Any, organization_id: int) -> None:
    if not permissions.can_manage_channels(user, organization_id):
        raise PermissionDenied("Only owners and admins can manage CRM webhooks.")


def check_url(url: str) -> str:
    """A URL we may post to: http(s), and in production https to a public address (no requests into our own
    network on an admin's say-so; ``OUTBOUND_WEBHOOK_ALLOW_PRIVATE``). The shared mechanism checks the address
    again before every delivery."""
    url = (url or "").strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError as exc:
        raise ValidationError(gettext("Enter a full http:// or https:// URL.")) from exc
    if settings.OUTBOUND_WEBHOOK_ALLOW_PRIVATE:
        return url
    if urlsplit(url).scheme != "https":
        raise ValidationError(gettext("Webhook URLs must use https."))
    refusal = outbound_webhooks.private_address_reason(url)
    if refusal:
        raise ValidationError(
            gettext("Webhook URLs must point to a public address: %(refusal)s.") % {"refusal": refusal}
        )
    return url


def _clean_types(event_types: list[str]) -> list[str]:
    types = sorted({t for t in event_types if t})
    unknown = [t for t in types if t not in EVENT_TYPES]
    if unknown:
        raise ValidationError(gettext("Unknown event type(s): %(value)s.") % {"value": ", ".join(unknown)})
    if not types:
        raise ValidationError(gettext("Choose at least one event to send."))
    return types


def endpoint_create(
    *, organization: Organization, user: Any, url: str, event_types: list[str], description: str = ""
) -> tuple[WebhookSubscription, str]:
    """A new endpoint and its signing secret, which is shown once and then only masked."""
    _check_manager(user, organization.pk)
    secret = outbound_webhooks.new_secret()
    endpoint = WebhookSubscription(
        kind=CRM,
        organization=organization,
        url=check_url(url),
        events=_clean_types(event_types),
        description=(description or "").strip()[:200],
        secret_hint=mask(secret),
    )
    endpoint.store_secret(secret)
    with transaction.atomic():
        endpoint.save()
        subscription_changed(endpoint)
    return endpoint, secret


def endpoint_update(
    *, endpoint: WebhookSubscription, user: Any, event_types: list[str] | None = None, is_active: bool | None = None
) -> WebhookSubscription:
    """Change what an endpoint receives, or switch it off and on (on again: its failure streak starts over)."""
    _check_manager(user, endpoint.organization_id)
    if event_types is not None:
        endpoint.events = _clean_types(event_types)
    if is_active is not None:
        endpoint.is_active = is_active
        if is_active:
            endpoint.failing_since, endpoint.disabled_reason = None, ""
    with transaction.atomic():
        endpoint.save()
        subscription_changed(endpoint)
    return endpoint


def endpoint_rotate_secret(*, endpoint: WebhookSubscription, user: Any) -> str:
    _check_manager(user, endpoint.organization_id)
    secret = outbound_webhooks.new_secret()
    endpoint.store_secret(secret)
    endpoint.secret_hint = mask(secret)
    endpoint.save(update_fields=["encrypted_secret", "secret_hint"])
    return secret


def endpoint_delete(*, endpoint: WebhookSubscription, user: Any) -> None:
    _check_manager(user, endpoint.organization_id)
    with transaction.atomic():
        endpoint.delete()
        subscription_changed(endpoint)


def endpoint_send_test(*, endpoint: WebhookSubscription, user: Any) -> WebhookDelivery | None:
    """The test button: a ``ping`` sent now through the shared signing and delivery path."""
    return outbound_webhooks.subscription_send_test(subscription=endpoint, user=user)


def delivery_redeliver(*, delivery: WebhookDelivery, user: Any) -> WebhookDelivery | None:
    """Send a logged delivery again now (same event id, so the receiver can deduplicate)."""
    return outbound_webhooks.delivery_redeliver(delivery=delivery, user=user)


def _contact_dict(organization_id: int, contact_id: Any) -> dict[str, Any] | None:
    contact = Contact.objects.filter(pk=contact_id, organization_id=organization_id).first() if contact_id else None
    if contact is None:
        return None
    facts = contact_facts(contact)
    return {"id": facts.id, "name": facts.name, "email": facts.email, "phone": facts.phone,
            "channels": list(facts.channels)}  # fmt: skip


def webhook_events_record(
    *,
    organization_id: int,
    event_type: str,
    data: dict[str, Any],
    contact_id: int | None = None,
    conversation_id: int | None = None,
) -> list[int]:
    """Write one delivery per active endpoint subscribed to ``event_type``, inside the caller's transaction.

    The contact (name, email, E.164 phone, channels) is added as ``data.contact`` (looked up only when some
    endpoint wants the event), since that is what a CRM keys its records on.
    """
    endpoints = [
        e
        for e in WebhookSubscription.objects.filter(organization_id=organization_id, kind=CRM, is_active=True)
        if event_type in (e.events or [])
    ]
    if not endpoints:
        return []
    data = dict(data)
    if contact_id is None and conversation_id:
        contact_id = Conversation.objects.filter(pk=conversation_id).values_list("contact_id", flat=True).first()
    if contact_id and "contact" not in data:
        data["contact"] = _contact_dict(organization_id, contact_id)
    return outbound_webhooks.deliveries_record(subscriptions=endpoints, event=event_type, data=data)
