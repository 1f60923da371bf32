"""Switchboard's one outbound-webhook mechanism: signed deliveries, retries with backoff, the log, redelivery,
the test ping, and disabling a subscriber that fails for too long.

Two kinds of subscriber use it: authorized apps (``kind=app``, :mod:`.app_webhooks`) and the endpoints admins
add for other CRMs (``kind=crm``, :mod:`integrations.crm.services.webhooks`). Every delivery is a row written in
the transaction of the change it reports, so none is lost. It is POSTed as JSON with
``Switchboard-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>``, ``Switchboard-Event``
and ``Switchboard-Delivery`` (the event id, stable across retries: receivers dedupe on it). Failures are retried
with exponential backoff and jitter (30 s doubling, at most 6 h apart) for ``OUTBOUND_WEBHOOK_RETRY_SECONDS``
(26 h by default), then marked failed; a subscription that has failed for ``OUTBOUND_WEBHOOK_DISABLE_AFTER_SECONDS``
without one success is disabled and its owners told.
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
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from inbox import permissions
from inbox.models import Membership, Role
from integrations.connections.models import ConnectionAudit, WebhookAttempt, WebhookDelivery, WebhookSubscription
from integrations.connections.services.configured import outbound_changed

logger = logging.getLogger(__name__)

FIRST_RETRY_SECONDS = 30
MAX_RETRY_GAP_SECONDS = 6 * 3600
CLAIM_SECONDS = 120  # a claimed delivery is not picked again by a sweep while its POST is under way
PING = "ping"


def new_secret() -> str:
    return "whsec_" + token_generator.token_urlsafe(32)


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
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not address.is_global:
            return f"the host {host!r} resolves to a non-public address"
    return ""


def subscription_changed(subscription: WebhookSubscription) -> None:
    """Call in the transaction that creates, switches or deletes a subscription (hot-path cache)."""
    outbound_changed(subscription.organization_id)


def deliveries_record(*, subscriptions: Iterable[WebhookSubscription], event: str, data: dict[str, Any]) -> list[int]:
    """One pending delivery of ``event`` per subscription, inside the caller's transaction; the first attempt is
    enqueued on commit. ``data`` is stored as JSON (the same bytes on every retry)."""
    payload = json.loads(json.dumps(data, cls=DjangoJSONEncoder))
    rows = [WebhookDelivery(subscription=s, event=event, payload=payload) for s in subscriptions]
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
    """The JSON body a subscriber receives; the same bytes on every retry. ``type`` repeats ``event`` for the
    receivers written against the CRM webhooks before the two mechanisms became one."""
    envelope = {
        "id": str(delivery.event_id),
        "event": delivery.event,
        "type": delivery.event,
        "created_at": delivery.created_at,
        "organization_id": delivery.subscription.organization_id,
        "data": delivery.payload,
    }
    return json.dumps(envelope, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":")).encode()


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff with jitter: 30 s, 1 min, 2 min ... at most 6 h between attempts."""
    first = float(getattr(settings, "OUTBOUND_WEBHOOK_FIRST_RETRY_SECONDS", FIRST_RETRY_SECONDS))
    base = min(MAX_RETRY_GAP_SECONDS, first * 2 ** max(0, attempts - 1))
    return timedelta(seconds=base * random.uniform(0.8, 1.2))


def _stopped(subscription: WebhookSubscription) -> bool:
    authorization = subscription.authorization
    return not subscription.is_active or (authorization is not None and authorization.revoked_at is not None)


def delivery_attempt(*, delivery_id: int, manual: bool = False, now: datetime | None = None) -> WebhookDelivery | None:
    """POST one delivery if it is due (or ``manual``: the redeliver and test buttons) and record the outcome.

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
        due = delivery.status == WebhookDelivery.Status.PENDING and delivery.next_attempt_at <= now
        if not manual and (not due or _stopped(subscription)):
            return delivery
        delivery.next_attempt_at = now + timedelta(seconds=CLAIM_SECONDS)
        delivery.save(update_fields=["next_attempt_at"])
    status_code, error, excerpt, elapsed = _post(subscription, delivery, delivery_body(delivery))
    return _record(delivery, status_code, error, excerpt, elapsed, manual=manual, now=timezone.now())


Answer = tuple[int | None, str, str, int]  # status code, error ("" when accepted), response excerpt, ms


def _post(subscription: WebhookSubscription, delivery: WebhookDelivery, body: bytes) -> Answer:
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Switchboard-Webhooks/1",
        "Switchboard-Event": delivery.event,
        "Switchboard-Delivery": str(delivery.event_id),
        "Switchboard-Signature": sign(subscription.secret(), int(time.time()), body),
    }
    refusal = private_address_reason(subscription.url)  # checked again: DNS can change after subscribing
    if refusal:
        return None, f"refused: {refusal}", "", 0
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        response = httpx.post(
            subscription.url, content=body, headers=headers, timeout=settings.OUTBOUND_WEBHOOK_TIMEOUT,
            follow_redirects=False,
        )  # fmt: skip
    except httpx.TimeoutException:
        return None, "the subscriber did not answer in time", "", took()
    except httpx.HTTPError as exc:
        return None, f"could not reach the subscriber ({exc.__class__.__name__})", "", took()
    elapsed, excerpt = took(), response.text[:500]
    if 200 <= response.status_code < 300:
        return response.status_code, "", excerpt, elapsed
    return response.status_code, f"the subscriber answered HTTP {response.status_code}", excerpt, elapsed


def _record(
    delivery: WebhookDelivery,
    status_code: int | None,
    error: str,
    excerpt: str,
    elapsed: int,
    *,
    manual: bool,
    now: datetime,
) -> WebhookDelivery:
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().select_related("subscription").get(pk=delivery.pk)
        subscription = WebhookSubscription.objects.select_for_update().get(pk=delivery.subscription_id)
        WebhookAttempt.objects.create(
            delivery=delivery, attempted_at=now, status_code=status_code, error=error[:500],
            response_excerpt=excerpt[:500], duration_ms=elapsed, manual=manual,
        )  # fmt: skip
        delivery.attempts += 1
        delivery.last_status_code = status_code
        delivery.last_error = error[:500]
        if not error:
            delivery.status = WebhookDelivery.Status.DELIVERED
            delivery.delivered_at = now
            subscription.failing_since = None
            subscription.last_success_at = now
            subscription.save(update_fields=["failing_since", "last_success_at"])
        elif delivery.event == PING:
            delivery.status = WebhookDelivery.Status.FAILED  # a test is answered at once, never retried
        else:
            if now - delivery.created_at >= timedelta(seconds=settings.OUTBOUND_WEBHOOK_RETRY_SECONDS):
                delivery.status = WebhookDelivery.Status.FAILED
            else:
                delivery.status = WebhookDelivery.Status.PENDING
                delivery.next_attempt_at = now + retry_delay(delivery.attempts)
            if subscription.failing_since is None:
                subscription.failing_since = now
                subscription.save(update_fields=["failing_since"])
            if subscription.is_active and now - subscription.failing_since >= timedelta(
                seconds=settings.OUTBOUND_WEBHOOK_DISABLE_AFTER_SECONDS
            ):
                _disable(subscription)
                delivery.status = WebhookDelivery.Status.FAILED
        delivery.save()
    return delivery


def _disable(subscription: WebhookSubscription) -> None:
    hours = settings.OUTBOUND_WEBHOOK_DISABLE_AFTER_SECONDS // 3600
    subscription.is_active = False
    subscription.disabled_reason = (
        f"Disabled after failing for {hours} hours without one successful delivery "
        f"(every delivery failed since {subscription.failing_since:%Y-%m-%d %H:%M} UTC)."
    )
    subscription.save(update_fields=["is_active", "disabled_reason"])
    subscription_changed(subscription)
    # What was still waiting will not be sent; it can be redelivered after the receiver is fixed.
    subscription.deliveries.filter(status=WebhookDelivery.Status.PENDING).update(
        status=WebhookDelivery.Status.FAILED, last_error="subscription disabled"
    )
    authorization = subscription.authorization
    who = authorization.application.name if authorization is not None else "CRM webhook"
    ConnectionAudit.objects.create(
        organization_id=subscription.organization_id,
        action="webhook_subscription_disabled",
        provider=subscription.kind,
        subject=f"{who}: {subscription.url}"[:200],
        detail={"subscription_id": subscription.pk, "failing_since": subscription.failing_since.isoformat()},
    )
    recipients = set(
        Membership.objects.filter(
            organization_id=subscription.organization_id, role=Role.OWNER, is_active=True
        ).values_list("user__email", flat=True)
    )
    if authorization is not None:
        recipients.add(authorization.user.email)
    recipients.discard("")
    fix = "ask the app to subscribe again" if authorization is not None else "enable it again on the CRM page"
    message = (
        f"The webhook subscription of {who} to {subscription.url} failed for {hours} hours and was disabled. "
        f"Fix the receiver, then {fix}."
    )
    transaction.on_commit(
        lambda: send_mail("Switchboard: a webhook subscription was disabled", message, None, sorted(recipients),
                          fail_silently=True)
    )  # fmt: skip


def _check_manager(user: Any, organization_id: int, what: str) -> None:
    if not permissions.can_manage_channels(user, organization_id):
        raise PermissionDenied(f"Only owners and admins can {what}.")


def delivery_redeliver(*, delivery: WebhookDelivery, user: Any) -> WebhookDelivery | None:
    """The redeliver button: owners and admins send a logged delivery again now (same event id, so the receiver
    can deduplicate); the answer is in the returned row."""
    organization_id = delivery.subscription.organization_id
    _check_manager(user, organization_id, "redeliver webhooks")
    ConnectionAudit.objects.create(
        organization_id=organization_id, actor=user, action="webhook_redelivered", provider=delivery.subscription.kind,
        subject=str(delivery.event_id), detail={"delivery_id": delivery.pk},
    )  # fmt: skip
    return delivery_attempt(delivery_id=delivery.pk, manual=True)


def subscription_send_test(*, subscription: WebhookSubscription, user: Any) -> WebhookDelivery | None:
    """The test button: a ``ping`` through the same signing and delivery path, sent now, answered at once."""
    _check_manager(user, subscription.organization_id, "test webhooks")
    delivery = WebhookDelivery.objects.create(
        subscription=subscription, event=PING, payload={"message": "Hello from Switchboard"}
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
