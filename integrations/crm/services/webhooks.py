"""Signed webhooks for any other CRM: endpoints an admin configures, deliveries written with the change (outbox),
sent with an HMAC-SHA256 signature (:mod:`integrations.crm.signing`), retried with backoff, logged, redeliverable,
and the endpoint disabled after failing for too long.
"""

from __future__ import annotations

import ipaddress
import json
import random
import socket
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from inbox import permissions
from inbox.models import Contact, Organization
from integrations.crm import signing
from integrations.crm.models import WebhookDelivery, WebhookEndpoint
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
Status = WebhookDelivery.Status


def _check_manager(user: Any, organization_id: int) -> None:
    if not permissions.can_manage_channels(user, organization_id):
        raise PermissionDenied("Only owners and admins can manage CRM webhooks.")


def _allow_private() -> bool:
    return bool(getattr(settings, "CRM_WEBHOOK_ALLOW_PRIVATE_URLS", not settings.PRODUCTION))


def check_url(url: str) -> str:
    """A URL we may post to: http(s), and in production https to a public address (no requests into our own
    network on an admin's say-so)."""
    url = (url or "").strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError as exc:
        raise ValidationError("Enter a full http:// or https:// URL.") from exc
    if _allow_private():
        return url
    parts = urlsplit(url)
    if parts.scheme != "https":
        raise ValidationError("Webhook URLs must use https.")
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 443)}
    except OSError as exc:
        raise ValidationError(f"{parts.hostname} cannot be resolved.") from exc
    if any(not ipaddress.ip_address(a.split("%")[0]).is_global for a in addresses):
        raise ValidationError("Webhook URLs must point to a public address.")
    return url


def _clean_types(event_types: list[str]) -> list[str]:
    types = sorted({t for t in event_types if t})
    unknown = [t for t in types if t not in EVENT_TYPES]
    if unknown:
        raise ValidationError(f"Unknown event type(s): {', '.join(unknown)}.")
    if not types:
        raise ValidationError("Choose at least one event to send.")
    return types


def endpoint_create(
    *, organization: Organization, user: Any, url: str, event_types: list[str], description: str = ""
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its signing secret, which is shown once and then only masked."""
    _check_manager(user, organization.pk)
    secret = signing.new_secret()
    endpoint = WebhookEndpoint(
        organization=organization,
        url=check_url(url),
        event_types=_clean_types(event_types),
        description=(description or "").strip()[:200],
        secret_hint=mask(secret),
    )
    endpoint.store_secret(secret)
    endpoint.save()
    return endpoint, secret


def endpoint_update(
    *, endpoint: WebhookEndpoint, user: Any, event_types: list[str] | None = None, is_active: bool | None = None
) -> WebhookEndpoint:
    """Change what an endpoint receives, or switch it off and on (on again: its failure streak starts over)."""
    _check_manager(user, endpoint.organization_id)
    if event_types is not None:
        endpoint.event_types = _clean_types(event_types)
    if is_active is not None:
        endpoint.is_active = is_active
        if is_active:
            endpoint.failing_since, endpoint.disabled_reason = None, ""
    endpoint.save()
    return endpoint


def endpoint_rotate_secret(*, endpoint: WebhookEndpoint, user: Any) -> str:
    _check_manager(user, endpoint.organization_id)
    secret = signing.new_secret()
    endpoint.store_secret(secret)
    endpoint.secret_hint = mask(secret)
    endpoint.save(update_fields=["encrypted_secret", "secret_hint"])
    return secret


def endpoint_delete(*, endpoint: WebhookEndpoint, user: Any) -> None:
    _check_manager(user, endpoint.organization_id)
    endpoint.delete()


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
) -> list[WebhookDelivery]:
    """Write one delivery per active endpoint subscribed to ``event_type``, inside the caller's transaction.

    The contact (name, email, E.164 phone, channels) is added as ``data.contact`` (looked up only when some
    endpoint wants the event), since that is what a CRM keys its records on.
    """
    endpoints = [
        e
        for e in WebhookEndpoint.objects.filter(organization_id=organization_id, is_active=True)
        if event_type in (e.event_types or [])
    ]
    if not endpoints:
        return []
    data = dict(data)
    if contact_id is None and conversation_id:
        from inbox.models import Conversation

        contact_id = Conversation.objects.filter(pk=conversation_id).values_list("contact_id", flat=True).first()
    if contact_id and "contact" not in data:
        data["contact"] = _contact_dict(organization_id, contact_id)
    deliveries = []
    for endpoint in endpoints:
        delivery = WebhookDelivery(endpoint=endpoint, event_type=event_type, payload={})
        delivery.payload = {
            "id": str(delivery.event_id),
            "type": event_type,
            "created_at": timezone.now().isoformat(),
            "organization_id": organization_id,
            "data": json.loads(json.dumps(data, cls=DjangoJSONEncoder)),
        }
        deliveries.append(delivery)
    WebhookDelivery.objects.bulk_create(deliveries)
    ids = [d.pk for d in deliveries]
    transaction.on_commit(lambda: _enqueue(ids))
    return deliveries


def _enqueue(delivery_ids: list[int]) -> None:
    from integrations.crm.tasks import deliver_webhook

    for delivery_id in delivery_ids:
        deliver_webhook.delay(delivery_id)


def endpoint_send_test(*, endpoint: WebhookEndpoint, user: Any) -> WebhookDelivery:
    """The test button: a ``ping`` event through the same signing and delivery path."""
    _check_manager(user, endpoint.organization_id)
    with transaction.atomic():
        delivery = WebhookDelivery(endpoint=endpoint, event_type="ping", payload={})
        delivery.payload = {
            "id": str(delivery.event_id),
            "type": "ping",
            "created_at": timezone.now().isoformat(),
            "organization_id": endpoint.organization_id,
            "data": {"message": "Hello from Switchboard"},
        }
        delivery.save()
        transaction.on_commit(lambda: _enqueue([delivery.pk]))
    return delivery


def delivery_redeliver(*, delivery: WebhookDelivery, user: Any) -> WebhookDelivery:
    """Send a logged delivery again (same event id, so the receiver can deduplicate), attempts starting over."""
    _check_manager(user, delivery.endpoint.organization_id)
    with transaction.atomic():
        delivery.status, delivery.attempts, delivery.next_attempt_at = Status.PENDING, 0, timezone.now()
        delivery.save(update_fields=["status", "attempts", "next_attempt_at"])
        transaction.on_commit(lambda: _enqueue([delivery.pk]))
    return delivery


def webhook_backoff_seconds(attempts: int) -> float:
    base = float(getattr(settings, "CRM_WEBHOOK_RETRY_BASE_SECONDS", 30.0))
    return min(6 * 3600.0, base * 2 ** max(0, attempts - 1)) * random.uniform(0.8, 1.2)


def webhook_deliver(*, delivery_id: int) -> WebhookDelivery | None:
    """Send one due delivery. Claimed with a conditional update, so a sweep and a countdown cannot both send it.

    2xx is delivered; anything else (or no answer) retries with backoff up to ``CRM_WEBHOOK_MAX_ATTEMPTS``. An
    endpoint failing without a success for ``CRM_WEBHOOK_DISABLE_AFTER_SECONDS`` (default three days) is disabled.
    """
    now = timezone.now()
    lease = now + timedelta(seconds=60)
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status__in=[Status.PENDING, Status.RETRYING], next_attempt_at__lte=now
    ).update(next_attempt_at=lease)
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if not endpoint.is_active and delivery.event_type != "ping":
        delivery.status, delivery.error = Status.DEAD, "The endpoint is disabled."
        delivery.save(update_fields=["status", "error"])
        return delivery
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Switchboard-Webhooks/1",
        signing.SIGNATURE_HEADER: signing.sign(endpoint.secret(), body),
        signing.EVENT_HEADER: delivery.event_type,
        signing.DELIVERY_HEADER: str(delivery.event_id),
    }
    started = time.monotonic()
    error, status_code, excerpt = "", None, ""
    try:
        check_url(endpoint.url)
        timeout = float(getattr(settings, "CRM_WEBHOOK_TIMEOUT_SECONDS", 10.0))
        response = httpx.post(endpoint.url, content=body, headers=headers, timeout=timeout, follow_redirects=False)
        status_code, excerpt = response.status_code, response.text[:500]
        if not 200 <= response.status_code < 300:
            error = f"The endpoint answered HTTP {response.status_code}."
    except ValidationError as exc:
        error = "; ".join(exc.messages)
    except httpx.TimeoutException:
        error = "The endpoint did not answer in time."
    except httpx.HTTPError as exc:
        error = f"Could not reach the endpoint ({exc.__class__.__name__})."
    delivery.attempts += 1
    delivery.duration_ms = int((time.monotonic() - started) * 1000)
    delivery.response_status, delivery.response_excerpt, delivery.error = status_code, excerpt, error
    now = timezone.now()
    with transaction.atomic():
        if not error:
            delivery.status, delivery.delivered_at = Status.DELIVERED, now
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
        else:
            max_attempts = int(getattr(settings, "CRM_WEBHOOK_MAX_ATTEMPTS", 10))
            if delivery.attempts >= max_attempts:
                delivery.status = Status.DEAD
            else:
                delivery.status = Status.RETRYING
                delivery.next_attempt_at = now + timedelta(seconds=webhook_backoff_seconds(delivery.attempts))
            if _note_endpoint_failure(endpoint, now):
                delivery.status = Status.DEAD
        delivery.save()
    return delivery


def _note_endpoint_failure(endpoint: WebhookEndpoint, now: Any) -> bool:
    """Start or extend the endpoint's failure streak; True when it was disabled now."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=now)
    endpoint.refresh_from_db(fields=["failing_since", "is_active"])
    limit = timedelta(seconds=float(getattr(settings, "CRM_WEBHOOK_DISABLE_AFTER_SECONDS", 3 * 24 * 3600)))
    if endpoint.is_active and endpoint.failing_since and now - endpoint.failing_since >= limit:
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            is_active=False,
            disabled_reason="Disabled automatically: every delivery failed since "
            f"{endpoint.failing_since:%Y-%m-%d %H:%M} UTC.",
        )
        # What was still waiting will not be sent; an admin can redeliver it after fixing the endpoint.
        WebhookDelivery.objects.filter(endpoint=endpoint, status__in=[Status.PENDING, Status.RETRYING]).update(
            status=Status.DEAD, error="The endpoint was disabled after failing for too long."
        )
        return True
    return False


def due_deliveries(*, limit: int = 500) -> list[int]:
    return list(
        WebhookDelivery.objects.filter(
            status__in=[Status.PENDING, Status.RETRYING], next_attempt_at__lte=timezone.now()
        )
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:limit]
    )
