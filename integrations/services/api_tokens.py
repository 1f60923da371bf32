"""Personal API tokens for scripts: ``Authorization: Token <key>`` (DRF ``TokenAuthentication``).

One token per user (DRF's ``authtoken`` model). Creating a token replaces the previous one, so a key shown once
and lost is simply replaced; revoking deletes it, after which requests with it answer 401.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from rest_framework.authtoken.models import Token


def api_token_create(*, user: Any) -> str:
    """Create the user's personal token (replacing any previous one) and return its key: show it once."""
    if not getattr(user, "is_active", False):
        raise PermissionDenied("Inactive users cannot have API tokens.")
    with transaction.atomic():
        Token.objects.filter(user=user).delete()
        return Token.objects.create(user=user).key


def api_token_revoke(*, user: Any) -> bool:
    """Revoke the user's token; True when there was one."""
    deleted, _ = Token.objects.filter(user=user).delete()
    return deleted > 0


def api_token_get(*, user: Any) -> Token | None:
    """The user's token row (for its creation time); never display its key after creation."""
    return Token.objects.filter(user=user).first()
