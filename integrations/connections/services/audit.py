"""The connections audit trail: who connected, reconnected, disconnected or revoked what. No secrets, ever."""

from __future__ import annotations

from typing import Any

from inbox.access.services.audit import audit_record as organization_audit
from inbox.models import Channel
from integrations.connections.models import ConnectionAudit


def audit_record(
    *,
    organization_id: int,
    actor: Any | None,
    action: str,
    provider: str = "",
    subject: str = "",
    channel: Channel | None = None,
    **detail: Any,
) -> ConnectionAudit:
    """Write one audit row (inside the caller's transaction, so it commits with the change it describes)."""
    organization_audit(
        organization_id=organization_id,
        actor=actor,
        action=f"connection.{action}",
        target_type="connection",
        target_id=getattr(channel, "pk", "") or "",
        target_label=subject,
        details={"provider": provider, **detail},
    )  # issue 5: the organization audit log too
    return ConnectionAudit.objects.create(
        organization_id=organization_id,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        provider=provider,
        subject=subject[:200],
        channel=channel,
        detail=detail,
    )
