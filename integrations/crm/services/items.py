"""Sync items' life: claimed, then succeeded, retrying with backoff, or failed for good; and retried by an admin.

The row is also the sync log: each outcome records what the attempt sent, what HubSpot answered and why it failed.
"""

from __future__ import annotations

import json
import random
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from inbox import permissions
from integrations.crm.hubspot.client import HubSpotError
from integrations.crm.models import CrmSyncItem, HubSpotConnection

Status = CrmSyncItem.Status
MAX_LOGGED_CHARS = 20_000


def max_attempts() -> int:
    return int(getattr(settings, "CRM_SYNC_MAX_ATTEMPTS", 8))


def backoff_seconds(attempts: int, retry_after: float | None = None) -> float:
    """Exponential with jitter from ``CRM_RETRY_BASE_SECONDS`` (default 30 s), capped at an hour; HubSpot's own
    ``Retry-After`` wins when it is longer."""
    base = float(getattr(settings, "CRM_RETRY_BASE_SECONDS", 30.0))
    delay = min(3600.0, base * 2 ** max(0, attempts - 1)) * random.uniform(0.75, 1.25)
    return max(delay, retry_after or 0.0)


def _loggable(value: Any) -> Any:
    """Keep the log readable and bounded: a huge transcript is cut, not stored twice in full."""
    text = json.dumps(value, default=str)
    if len(text) <= MAX_LOGGED_CHARS:
        return value
    return {"truncated": text[:MAX_LOGGED_CHARS]}


def items_claim(*, organization_id: int, limit: int = 100) -> list[CrmSyncItem]:
    """Due waiting items of the organization, oldest first, marked ``sending`` under a lease."""
    now = timezone.now()
    lease = timedelta(seconds=float(getattr(settings, "CRM_SENDING_LEASE_SECONDS", 120)))
    with transaction.atomic():
        # A worker that died mid-send left its items "sending": after the lease they are due again.
        CrmSyncItem.objects.filter(organization_id=organization_id, status=Status.SENDING, lease_until__lt=now).update(
            status=Status.RETRYING, next_attempt_at=now
        )
        due = list(
            CrmSyncItem.objects.select_for_update(skip_locked=True)
            .filter(organization_id=organization_id, status__in=CrmSyncItem.WAITING, next_attempt_at__lte=now)
            .order_by("id")[:limit]
        )
        if not due:
            return []
        CrmSyncItem.objects.filter(pk__in=[i.pk for i in due]).update(status=Status.SENDING, lease_until=now + lease)
    for item in due:
        item.status = Status.SENDING
    return due


def item_succeed(item: CrmSyncItem, *, hubspot_id: str, request: Any, response: Any, http_status: int = 200) -> None:
    item.status = Status.SUCCEEDED
    item.hubspot_id = hubspot_id
    item.request, item.response = _loggable(request), _loggable(response)
    item.http_status = http_status
    item.error = ""
    item.attempts += 1
    item.finished_at = timezone.now()
    item.lease_until = None
    item.save()


def item_skip(item: CrmSyncItem, reason: str) -> None:
    item.status, item.error, item.finished_at, item.lease_until = Status.SKIPPED, reason, timezone.now(), None
    item.save()


def item_fail(item: CrmSyncItem, exc: HubSpotError, *, connection: HubSpotConnection, request: Any = None) -> None:
    """Transient failures (429, 5xx, timeouts) retry with backoff until ``CRM_SYNC_MAX_ATTEMPTS``; a refused
    token waits for the admin to reconnect; anything else HubSpot refused fails for good, with its reason."""
    from integrations.crm.services.connection import connection_mark_unauthorized

    # Waiting for our own limiter is not an attempt at HubSpot.
    counted = exc.category != "LIMIT"
    attempts = item.attempts + (1 if counted else 0)
    item.request = _loggable(request) if request is not None else item.request
    item.response = _loggable(exc.body) if exc.body is not None else None
    item.http_status = exc.status
    item.error = exc.message[:2000]
    item.lease_until = None
    item.attempts = attempts
    now = timezone.now()
    if exc.unauthorized:
        connection_mark_unauthorized(connection=connection, reason=exc.message)
        item.status, item.next_attempt_at = Status.RETRYING, now + timedelta(hours=1)
        item.error = f"HubSpot refused the token ({exc.message}). Reconnect HubSpot on the CRM page."
    elif exc.transient and attempts < max_attempts():
        item.status = Status.RETRYING
        item.next_attempt_at = now + timedelta(seconds=backoff_seconds(attempts, exc.retry_after))
    else:
        item.status, item.finished_at = Status.DEAD, now
    try:
        with transaction.atomic():
            item.save()
    except IntegrityError:
        # A newer event queued a waiting item for the same object meanwhile: it carries the latest data.
        item.status, item.finished_at = Status.SKIPPED, now
        item.error = f"{item.error} (superseded by a newer change)"
        item.save()


def sync_item_retry(*, item_id: int, user: Any) -> CrmSyncItem:
    """The admin's retry button: a failed or skipped item is due again now (attempts start over).

    Raises ``PermissionDenied`` for anyone but owners and admins of the item's organization, and
    ``ValidationError`` when the item is not failed, or when a newer change of the same object is already waiting
    (that one will be sent instead).
    """
    item = CrmSyncItem.objects.filter(pk=item_id).first()
    if item is None or not permissions.can_manage_channels(user, item.organization_id):
        raise PermissionDenied("Only owners and admins can retry CRM syncs.")
    if item.status not in (Status.DEAD, Status.SKIPPED, Status.RETRYING):
        raise ValidationError(gettext("Only failed or skipped items can be retried."))
    try:
        with transaction.atomic():
            item.status, item.attempts, item.next_attempt_at = Status.PENDING, 0, timezone.now()
            item.finished_at = None
            item.save(update_fields=["status", "attempts", "next_attempt_at", "finished_at", "updated_at"])
    except IntegrityError as exc:
        raise ValidationError(gettext("A newer change of this record is already waiting to be sent.")) from exc
    organization_id = item.organization_id

    def enqueue() -> None:
        from integrations.crm.tasks import sync_organization

        sync_organization.delay(organization_id)

    transaction.on_commit(enqueue)
    return item
