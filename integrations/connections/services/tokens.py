"""Keeping TikTok business access tokens (about 24 h) fresh, ahead of expiry, one refresher at a time.

Two workers must never refresh the same connection at once: TikTok rotates refresh tokens, so the loser of a
race would present a spent refresh token and wrongly mark the account as needing reauthorization. The lock is
``cache.add`` (atomic in Redis, shared by every worker; in-process locmem in the embedded default, where
there is one process), and after taking it the refresher re-reads the row and skips a connection that another
worker refreshed meanwhile. A refusal by TikTok marks the connection and its channel ``needs_reauthorization``
(sending pauses, admins see a reconnect button); a network failure is retried by the next beat run.
"""

from __future__ import annotations

import logging
import secrets as token_generator
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from integrations.connections import providers
from integrations.connections.endpoints import Endpoints, endpoints
from integrations.connections.models import Connection, Provider
from integrations.connections.providers import OAuthError
from integrations.connections.services.audit import audit_record
from integrations.models import ChannelCredential
from integrations.services import channels as channel_services
from switchboard.crypto import SecretUnreadable

logger = logging.getLogger(__name__)

LOCK_SECONDS = 120  # longer than a refresh call with its retries can take


@dataclass(frozen=True)
class RefreshOutcome:
    status: str  # refreshed, not_due, locked, needs_reauthorization, retry_later, skipped
    reason: str = ""


def _due_before(now: datetime) -> datetime:
    return now + timedelta(seconds=settings.CONNECTIONS_REFRESH_AHEAD_SECONDS)


def connections_due_for_refresh(*, now: datetime | None = None) -> list[int]:
    """Active TikTok connections whose access token expires within the refresh-ahead window."""
    now = now or timezone.now()
    return list(
        Connection.objects.filter(
            provider=Provider.TIKTOK, status=Connection.Status.ACTIVE, access_expires_at__lte=_due_before(now)
        ).values_list("id", flat=True)[:1000]
    )


@contextmanager
def refresh_lock(key: str, *, timeout: int = LOCK_SECONDS) -> Iterator[bool]:
    """Yield whether this caller holds the token-refresh lock ``key`` (shared by every worker through the cache).

    Whoever gets ``False`` must not refresh: it waits for, or skips, the holder's refresh, then re-reads the
    stored token. The lock is released only by its owner and expires on its own if the owner dies.
    """
    owner = token_generator.token_hex(8)
    acquired = bool(cache.add(key, owner, timeout=timeout))
    try:
        yield acquired
    finally:
        if acquired and cache.get(key) == owner:
            cache.delete(key)


def connection_refresh(
    *, connection_id: int, force: bool = False, ep: Endpoints | None = None, now: datetime | None = None
) -> RefreshOutcome:
    """Refresh one connection's access token if due (or ``force``). Safe to call from many workers at once."""
    with refresh_lock(f"connections:refresh-lock:{connection_id}") as acquired:
        if not acquired:
            return RefreshOutcome("locked", "another worker is refreshing this connection")
        return _refresh_locked(connection_id, force=force, ep=ep or endpoints(), now=now)


def _refresh_locked(connection_id: int, *, force: bool, ep: Endpoints, now: datetime | None) -> RefreshOutcome:
    connection = Connection.objects.select_related("channel").filter(pk=connection_id).first()
    if connection is None or connection.provider != Provider.TIKTOK or connection.status != Connection.Status.ACTIVE:
        return RefreshOutcome("skipped", "not an active TikTok connection")
    now = now or timezone.now()
    if not force and connection.access_expires_at and connection.access_expires_at > _due_before(now):
        return RefreshOutcome("not_due")
    credential = ChannelCredential.objects.filter(channel=connection.channel).first()
    try:
        stored = credential.stored_values() if credential is not None else {}
    except SecretUnreadable:
        stored = {}
    refresh_token = stored.get("refresh_token", "")
    if not refresh_token:
        return _needs_reauthorization(connection, "no refresh token is stored")
    if connection.refresh_expires_at and connection.refresh_expires_at <= now:
        return _needs_reauthorization(connection, "the refresh token expired")
    try:
        tokens = providers.tiktok_refresh(ep, refresh_token=refresh_token, open_id=connection.channel.account_id)
    except OAuthError as exc:
        if exc.kind == "network":
            Connection.objects.filter(pk=connection.pk).update(last_error=exc.reason[:500])
            logger.warning("token refresh will be retried", extra={"connection_id": connection.pk})
            return RefreshOutcome("retry_later", exc.reason)
        return _needs_reauthorization(connection, exc.reason)
    with transaction.atomic():
        locked = Connection.objects.select_for_update().get(pk=connection.pk)
        channel_services.channel_update(
            channel=connection.channel,
            updated_by=None,
            secrets={"access_token": tokens.access_token},
            extra={"refresh_token": tokens.refresh_token or refresh_token},
        )
        locked.access_expires_at = now + timedelta(seconds=tokens.expires_in)
        if tokens.refresh_token:
            locked.refresh_expires_at = now + timedelta(seconds=tokens.refresh_expires_in)
        locked.last_refreshed_at = now
        locked.last_error = ""
        if tokens.scopes:
            locked.scopes = tokens.scopes
        locked.save(
            update_fields=["access_expires_at", "refresh_expires_at", "last_refreshed_at", "last_error", "scopes"]
        )
    return RefreshOutcome("refreshed")


def _needs_reauthorization(connection: Connection, reason: str) -> RefreshOutcome:
    with transaction.atomic():
        Connection.objects.filter(pk=connection.pk).update(
            status=Connection.Status.NEEDS_REAUTHORIZATION, last_error=f"Token refresh failed: {reason}"[:500]
        )
        channel_services.channel_mark_needs_reauthorization(channel=connection.channel)
        audit_record(
            organization_id=connection.organization_id,
            actor=None,
            action="refresh_failed",
            provider=connection.provider,
            subject=connection.account_name,
            channel=connection.channel,
            reason=reason[:300],
        )
    logger.warning("token refresh refused: connection needs reauthorization", extra={"connection_id": connection.pk})
    return RefreshOutcome("needs_reauthorization", reason)
