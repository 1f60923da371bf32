"""The audit log: one row per change to members, roles, channels, connections, rules, signal settings, exports.

Other apps call ``audit_record`` inside the transaction that makes the change, so the row commits with it (or
not at all). ``details`` is scrubbed: keys that look like secrets or message text are dropped, long strings cut.
"""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest

from inbox.access.models import AuditLog

# Key names that never belong in an audit row (secrets, tokens, message and note text).
_FORBIDDEN_KEY = re.compile(r"token|secret|password|passwd|api_?key|authorization|cookie|body|text|message", re.I)
_MAX_STRING = 200


def scrub(details: Any) -> Any:
    """``details`` without secret-looking keys or message text, strings cut to 200 characters (pure)."""
    if isinstance(details, dict):
        return {str(k): scrub(v) for k, v in details.items() if not _FORBIDDEN_KEY.search(str(k))}
    if isinstance(details, list | tuple):
        return [scrub(v) for v in details[:50]]
    if isinstance(details, str):
        return details[:_MAX_STRING]
    if details is None or isinstance(details, bool | int | float):
        return details
    return str(details)[:_MAX_STRING]


def client_ip(request: HttpRequest | None) -> str | None:
    """The client address Django saw (the proxy sets REMOTE_ADDR in production: we do not trust X-Forwarded-For)."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def audit_record(
    *,
    organization_id: int,
    actor: Any | None,
    action: str,
    target_type: str = "",
    target_id: Any = "",
    target_label: str = "",
    details: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditLog:
    """Write one audit row in the caller's transaction. ``action`` is ``<area>.<verb>``, e.g. ``member.deactivated``."""
    authenticated = getattr(actor, "is_authenticated", False)
    return AuditLog.objects.create(
        organization_id=organization_id,
        actor=actor if authenticated else None,
        actor_name=actor.get_username()[:150] if authenticated else "",
        action=action[:60],
        target_type=target_type[:40],
        target_id=str(target_id)[:64],
        target_label=str(target_label)[:200],
        details=scrub(details or {}),
        ip=ip,
    )
