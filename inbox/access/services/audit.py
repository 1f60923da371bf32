"""The audit log: one row per change to members, roles, channels, connections, rules, signal settings, exports.

Other apps call ``audit_record`` inside the transaction that makes the change, so the row commits with it (or
not at all). ``details`` is scrubbed: keys that look like secrets or message text are dropped, long strings cut.
"""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest

from inbox import permissions
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


def audit_action(
    *,
    actor: Any | None,
    action: str,
    target: Any = None,
    organization_id: int | None = None,
    details: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditLog | None:
    """``audit_record`` for a model instance: the organization, target type, id and label come from ``target``.

    Meant as the one added line in another app's service (channels, rules, signal settings, exports), inside
    the transaction of the change. Without an organization there is nothing to file it under: returns None.
    """
    org_id = organization_id or getattr(target, "organization_id", None)
    if org_id is None and target is not None and target.__class__.__name__ == "Organization":
        org_id = target.pk
    if org_id is None:
        return None
    meta = getattr(target, "_meta", None)
    label = getattr(target, "name", "") or (str(target) if target is not None else "")
    return audit_record(
        organization_id=org_id,
        actor=actor,
        action=action,
        target_type=meta.model_name if meta is not None else "",
        target_id=getattr(target, "pk", "") or "",
        target_label=str(label),
        details=details,
        ip=ip,
    )


# Settings pages whose changes are audited from their views (their services take no actor), by area: the
# actions each page posts. Anything else posted is not a change and leaves no row.
SETTINGS_ACTIONS: dict[str, frozenset[str]] = {
    "signals.keywords": frozenset({"create_list", "add", "remove", "import", "tiktok"}),
    "signals.extractors": frozenset({"add", "up", "down", "enable", "disable", "delete"}),
    "signals.events": frozenset(
        {"connect", "update", "disconnect", "reconnect", "add_rule", "enable_rule", "disable_rule", "delete_rule"}
    ),
}


def audit_settings_change(
    request: HttpRequest, *, area: str, action: str | None, target: Any, details: dict[str, Any] | None = None
) -> AuditLog | None:
    """One row for a change made on a settings page (``<area>.<action>``), by the request's user and address."""
    if action not in SETTINGS_ACTIONS.get(area, frozenset()):
        return None
    return audit_action(
        actor=request.user, action=f"{area}.{action}", target=target, details=details, ip=client_ip(request)
    )


def audit_export(request: HttpRequest, *, export: str, **details: Any) -> AuditLog | None:
    """One row per export downloaded (orders, reservations, keyword lists, the audit log itself)."""
    membership = permissions.active_membership(request.user)
    if membership is None:
        return None
    return audit_record(
        organization_id=membership.organization_id,
        actor=request.user,
        action="export.downloaded",
        target_type="export",
        target_label=export,
        details={"filters": request.GET.dict(), **details},
        ip=client_ip(request),
    )
