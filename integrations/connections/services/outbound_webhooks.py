"""Outbound webhooks for authorized apps: subscriptions, signed deliveries, retries with backoff, the log.

Every delivery is a row written in the transaction of the change it reports, so none is lost. A delivery is
POSTed as JSON with ``Switchboard-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>``,
``Switchboard-Event`` and ``Switchboard-Delivery`` (the event id, stable across retries: receivers dedupe on
it). Failures are retried with exponential backoff (30 s doubling, at most 6 h apart) for
``OUTBOUND_WEBHOOK_RETRY_SECONDS`` (26 h by default), then marked failed; a subscription that has failed for
``OUTBOUND_WEBHOOK_DISABLE_AFTER_SECONDS`` without one success is disabled and its owner told.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import random
import secrets as token_generator
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from inbox import events, permissions
from inbox.models import Membership, Role
from integrations.connections.models import (
    AppAuthorization,
    ConnectionAudit,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from integrations.connections.subscribers import WEBHOOK_EVENTS

logger = logging.getLogger(__name__)

FIRST_RETRY_SECONDS = 30
MAX_RETRY_GAP_SECONDS = 6 * 3600
CLAIM_SECONDS = 120  # a claimed delivery is not picked again by a sweep while its POST is under way
MAX_SUBSCRIPTIONS_PER_AUTHORIZATION = 20


@dataclass(frozen=True)
class CreatedSubscription:
    subscription: WebhookSubscription
    secret: str  # shown to the app once, at creation


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Switchboard-Signature`` header value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(secret: str, header: str, body: bytes, *, tolerance: int = 300, now: float | None = None) -> bool:
    """What a receiver does (documented for app developers, used by our tests): constant-time, fresh only."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def private_address_reason(url: str) -> str:
    """Why ``url`` may not be called (it resolves to a private, loopback or link-local address), or "".

    Allowed outside production (``OUTBOUND_WEBHOOK_ALLOW_PRIVATE``) so tests and demos can use loopback.
    """
    if settings.OUTBOUND_WEBHOOK_ALLOW_PRIVATE:
        return ""
    host = urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None)
    except (socket.gaierror, UnicodeError):
        return f"the host {host!r} does not resolve"
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            return f"the host {host!r} resolves to a non-public address"
    return ""


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
        raise ValidationError({"events": f"Name at least one event: {', '.join(sorted(WEBHOOK_EVENTS))}."})
    unknown = [n for n in names if n not in WEBHOOK_EVENTS]
    if unknown:
        raise ValidationError({"events": f"Unknown event(s) {', '.join(unknown)}; known: {', '.join(WEBHOOK_EVENTS)}."})
    refused = [n for n in names if n not in allowed]
    if refused:
        raise PermissionDenied(f"The app's scopes do not cover: {', '.join(refused)}.")
    if not url.startswith("https://") and (settings.PRODUCTION or not url.startswith("http://")):
        raise ValidationError({"url": "The webhook URL must be an https:// URL."})
    refusal = private_address_reason(url)
    if refusal:
        raise ValidationError({"url": f"The webhook URL must point to a public address: {refusal}."})
    if authorization.subscriptions.filter(is_active=True).count() >= MAX_SUBSCRIPTIONS_PER_AUTHORIZATION:
        raise ValidationError({"url": f"An app may have at most {MAX_SUBSCRIPTIONS_PER_AUTHORIZATION} subscriptions."})
    secret = "whsec_" + token_generator.token_urlsafe(32)
    subscription = WebhookSubscription(authorization=authorization, url=url, events=names)
    subscription.store_secret(secret)
    subscription.save()
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


def deliveries_create_for_event(*, event: events.DomainEvent) -> list[int]:
    """One pending delivery per active subscriber of ``event`` in its organization (in the caller's transaction)."""
    scope = WEBHOOK_EVENTS.get(event.name)
    if scope is None:
        return []
    subscriptions = WebhookSubscription.objects.filter(
        is_active=True,
        authorization__organization_id=event.organization_id,
        authorization__revoked_at__isnull=True,
    ).select_related("authorization")
    rows = []
    for subscription in subscriptions:
        if event.name in subscription.events and event.name in _allowed_events(subscription.authorization):
            rows.append(WebhookDelivery(subscription=subscription, event=event.name, payload=event.payload))
    if not rows:
        return []
    created = WebhookDelivery.objects.bulk_create(rows)
    ids = [row.pk for row in created if row.pk is not None]
    if len(ids) != len(created):  # backends without RETURNING ids: the sweep delivers them within seconds
        return []
    transaction.on_commit(lambda: _enqueue(ids))
    return ids


def _enqueue(ids: list[int]) -> None:
    from integrations.connections.tasks import deliver_webhook

    for delivery_id in ids:
        deliver_webhook.delay(delivery_id)


def delivery_body(delivery: WebhookDelivery) -> bytes:
    """The JSON body a subscriber receives; the same bytes on every retry."""
    envelope = {
        "id": str(delivery.event_id),
        "event": delivery.event,
        "created_at": delivery.created_at,
        "organization_id": delivery.subscription.authorization.organization_id,
        "data": delivery.payload,
    }
    return json.dumps(envelope, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":")).encode()


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff with jitter: 30 s, 1 min, 2 min ... at most 6 h between attempts."""
    base = min(MAX_RETRY_GAP_SECONDS, FIRST_RETRY_SECONDS * 2 ** max(0, attempts - 1))
    return timedelta(seconds=base * random.uniform(0.8, 1.2))


def delivery_attempt(*, delivery_id: int, manual: bool = False, now: datetime | None = None) -> WebhookDelivery | None:
    """POST one delivery if it is due (or ``manual``: the redeliver button) and record the outcome.

    Claims the row first (moves ``next_attempt_at`` ahead) so that two workers never POST it at once.
    """
    now = now or timezone.now()
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("subscription__authorization")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None:
            return None
        subscription = delivery.subscription
        if not manual and (
            delivery.status != WebhookDelivery.Status.PENDING
            or delivery.next_attempt_at > now
            or not subscription.is_active
            or subscription.authorization.revoked_at is not None
        ):
            return delivery
        delivery.next_attempt_at = now + timedelta(seconds=CLAIM_SECONDS)
        delivery.save(update_fields=["next_attempt_at"])
    body = delivery_body(delivery)
    status_code, error, elapsed = _post(subscription, delivery, body)
    return _record(delivery, status_code, error, elapsed, manual=manual, now=timezone.now())


def _post(subscription: WebhookSubscription, delivery: WebhookDelivery, body: bytes) -> tuple[int | None, str, int]:
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Switchboard-Webhooks/1",
        "Switchboard-Event": delivery.event,
        "Switchboard-Delivery": str(delivery.event_id),
        "Switchboard-Signature": sign(subscription.secret(), int(time.time()), body),
    }
    refusal = private_address_reason(subscription.url)  # checked again: DNS can change after subscribing
    if refusal:
        return None, f"refused: {refusal}", 0
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        response = httpx.post(
            subscription.url, content=body, headers=headers, timeout=settings.OUTBOUND_WEBHOOK_TIMEOUT,
            follow_redirects=False,
        )
    except httpx.TimeoutException:
        return None, "the subscriber did not answer in time", took()
    except httpx.HTTPError as exc:
        return None, f"could not reach the subscriber ({exc.__class__.__name__})", took()
    elapsed = took()
    if 200 <= response.status_code < 300:
        return response.status_code, "", elapsed
    return response.status_code, f"the subscriber answered HTTP {response.status_code}", elapsed


def _record(
    delivery: WebhookDelivery, status_code: int | None, error: str, elapsed: int, *, manual: bool, now: datetime
) -> WebhookDelivery:
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().select_related("subscription").get(pk=delivery.pk)
        subscription = WebhookSubscription.objects.select_for_update().get(pk=delivery.subscription_id)
        WebhookAttempt.objects.create(
            delivery=delivery, attempted_at=now, status_code=status_code, error=error[:500], duration_ms=elapsed,
            manual=manual,
        )
        delivery.attempts += 1
        delivery.last_status_code = status_code
        delivery.last_error = error[:500]
        if not error:
            delivery.status = WebhookDelivery.Status.DELIVERED
            delivery.delivered_at = now
            subscription.failing_since = None
            subscription.last_success_at = now
            subscription.save(update_fields=["failing_since", "last_success_at"])
        else:
            if now - delivery.created_at >= timedelta(seconds=settings.OUTBOUND_WEBHOOK_RETRY_SECONDS):
                delivery.status = WebhookDelivery.Status.FAILED
            else:
                delivery.status = WebhookDelivery.Status.PENDING
                delivery.next_attempt_at = now + retry_delay(delivery.attempts)
            if subscription.failing_since is None:
                subscription.failing_since = now
                subscription.save(update_fields=["failing_since"])
            elif subscription.is_active and now - subscription.failing_since >= timedelta(
                seconds=settings.OUTBOUND_WEBHOOK_DISABLE_AFTER_SECONDS
            ):
                _disable(subscription, now)
        delivery.save()
    return delivery


def _disable(subscription: WebhookSubscription, now: datetime) -> None:
    hours = settings.OUTBOUND_WEBHOOK_DISABLE_AFTER_SECONDS // 3600
    subscription.is_active = False
    subscription.disabled_reason = f"Disabled after failing for {hours} hours without one successful delivery."
    subscription.save(update_fields=["is_active", "disabled_reason"])
    subscription.deliveries.filter(status=WebhookDelivery.Status.PENDING).update(
        status=WebhookDelivery.Status.FAILED, last_error="subscription disabled"
    )
    authorization = subscription.authorization
    ConnectionAudit.objects.create(
        organization_id=authorization.organization_id,
        action="webhook_subscription_disabled",
        provider="app",
        subject=f"{authorization.application.name}: {subscription.url}"[:200],
        detail={"subscription_id": subscription.pk, "failing_since": subscription.failing_since.isoformat()},
    )
    recipients = {authorization.user.email} | set(
        Membership.objects.filter(
            organization_id=authorization.organization_id, role=Role.OWNER, is_active=True
        ).values_list("user__email", flat=True)
    )
    recipients.discard("")
    message = (
        f"The webhook subscription of {authorization.application.name} to {subscription.url} failed for {hours} "
        "hours and was disabled. Fix the receiver, then ask the app to subscribe again."
    )
    transaction.on_commit(
        lambda: send_mail("Switchboard: a webhook subscription was disabled", message, None, sorted(recipients),
                          fail_silently=True)
    )


def delivery_redeliver(*, delivery: WebhookDelivery, user: Any) -> WebhookDelivery | None:
    """The manual redeliver button: owners and admins of the organization send a delivery again now."""
    organization_id = delivery.subscription.authorization.organization_id
    if not permissions.can_manage_channels(user, organization_id):
        raise PermissionDenied("Only owners and admins can redeliver webhooks.")
    ConnectionAudit.objects.create(
        organization_id=organization_id, actor=user, action="webhook_redelivered", provider="app",
        subject=str(delivery.event_id), detail={"delivery_id": delivery.pk},
    )
    return delivery_attempt(delivery_id=delivery.pk, manual=True)


def due_delivery_ids(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    now = now or timezone.now()
    return list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now, subscription__is_active=True
        )
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:limit]
    )
