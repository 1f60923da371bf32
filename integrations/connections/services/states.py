"""OAuth ``state``: bound to the browser session that started the request, single use, short-lived.

A replayed, foreign, unknown or stale ``state`` ends the flow with a :class:`ConnectError` saying so; a state
is consumed atomically (one ``UPDATE ... WHERE consumed_at IS NULL``), so two callbacks racing with the same
state cannot both proceed.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets as token_generator
from datetime import timedelta
from typing import Any

from django.utils import timezone

from inbox.models import Channel, Organization
from integrations.connections.models import OAuthState

STATE_LIFETIME = timedelta(minutes=15)
SESSION_KEY = "connections_oauth_binding"


class ConnectError(Exception):
    """A connect flow ended without connecting anything. ``title`` and ``reason`` are shown to the admin."""

    def __init__(self, title: str, reason: str, *, provider: str = "", retry: bool = True):
        super().__init__(f"{title}: {reason}")
        self.title = title
        self.reason = reason
        self.provider = provider
        self.retry = retry


def session_binding(session: Any) -> str:
    """A random value kept in the browser session; only its hash is stored with a state."""
    value = session.get(SESSION_KEY)
    if not value:
        value = token_generator.token_urlsafe(24)
        session[SESSION_KEY] = value
    return value


def _hash(binding: str) -> str:
    return hashlib.sha256(binding.encode()).hexdigest()


def state_create(
    *,
    binding: str,
    provider: str,
    organization: Organization,
    user: Any,
    redirect_uri: str,
    channel: Channel | None = None,
) -> OAuthState:
    return OAuthState.objects.create(
        state=token_generator.token_urlsafe(32),
        session_binding=_hash(binding),
        provider=provider,
        organization=organization,
        user=user,
        channel=channel,
        redirect_uri=redirect_uri,
    )


def state_consume(*, binding: str, state: str, provider: str, user: Any) -> OAuthState:
    """Use ``state`` once. Raises :class:`ConnectError` for a missing, unknown, foreign, replayed or old one."""
    if not state:
        raise ConnectError("The answer was incomplete", "The provider's answer carried no state.", provider=provider)
    row = OAuthState.objects.select_related("organization", "channel").filter(state=state).first()
    if row is None or row.provider != provider:
        raise ConnectError(
            "This authorization link is not valid",
            "Switchboard did not start this authorization, so nothing was connected.",
            provider=provider,
        )
    if not hmac.compare_digest(row.session_binding, _hash(binding)) or row.user_id != getattr(user, "pk", None):
        raise ConnectError(
            "This authorization was started in another browser session",
            "For your safety it was not completed. Start again from this browser.",
            provider=provider,
        )
    if row.consumed_at is not None:
        raise ConnectError(
            "This authorization link was already used",
            "Each authorization can complete once. If you pressed Back or reloaded, start again.",
            provider=provider,
        )
    if timezone.now() - row.created_at > STATE_LIFETIME:
        raise ConnectError(
            "This authorization took too long",
            "It expired after 15 minutes without an answer. Start again.",
            provider=provider,
        )
    claimed = OAuthState.objects.filter(pk=row.pk, consumed_at__isnull=True).update(consumed_at=timezone.now())
    if not claimed:
        raise ConnectError(
            "This authorization link was already used",
            "Each authorization can complete once. If you pressed Back or reloaded, start again.",
            provider=provider,
        )
    return row


def states_purge(*, older_than: timedelta = timedelta(days=1)) -> int:
    return OAuthState.objects.filter(created_at__lt=timezone.now() - older_than).delete()[0]
