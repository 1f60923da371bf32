"""Ending a user's access at once: their browser sessions, API tokens and open websockets."""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.utils import timezone

from inbox.realtime import user_group
from switchboard import layers

DB_BACKED_SESSION_ENGINES = {"django.contrib.sessions.backends.db", "django.contrib.sessions.backends.cached_db"}


def user_sessions_end(*, user_id: int) -> int:
    """Delete every live session of ``user_id`` (database-backed sessions); returns how many.

    Sessions are decoded one by one: fine for the thousands of live sessions a Switchboard holds. The cache
    of ``cached_db`` is cleared through the store so no copy outlives the row.
    """
    if settings.SESSION_ENGINE not in DB_BACKED_SESSION_ENGINES:
        return 0  # signed-cookie or cache sessions: Membership.is_active=False still denies every request
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        data = session.get_decoded()
        if str(data.get(SESSION_KEY)) == str(user_id):
            store_class(session_key=session.session_key).delete()
            ended += 1
    return ended


def user_tokens_revoke(*, user_id: int) -> int:
    """Delete the user's personal API token (DRF authtoken): scripts using it get 401 from now on."""
    from rest_framework.authtoken.models import Token

    deleted, _ = Token.objects.filter(user_id=user_id).delete()
    return deleted


def user_websockets_close(*, user_id: int) -> None:
    """Tell the user's open websockets to close (the consumer handles ``access.revoked``). Call after commit."""
    layers.group_send(user_group(user_id), {"type": "access.revoked"})
