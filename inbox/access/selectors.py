"""Reads for the members, roles and audit pages; every one scoped to the viewer's organization."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from inbox.access.models import AuditLog, CustomRole, Invitation
from inbox.models import Channel, Membership, Team

AUDIT_PAGE_SIZE = 100


def member_list(*, organization_id: int) -> list[Membership]:
    return list(
        Membership.objects.filter(organization_id=organization_id)
        .select_related("user", "access__custom_role", "access__deactivated_by")
        .prefetch_related(
            Prefetch("channels", Channel.objects.order_by("name")), Prefetch("teams", Team.objects.order_by("name"))
        )
        .order_by("-is_active", "user__username")
    )


def member_get(*, organization_id: int, membership_id: int) -> Membership:
    """One member of the organization; ``Membership.DoesNotExist`` for anyone else's."""
    return Membership.objects.select_related("user", "access__custom_role").get(
        organization_id=organization_id, pk=membership_id
    )


def pending_invitations(*, organization_id: int) -> list[Invitation]:
    rows = Invitation.objects.filter(
        organization_id=organization_id,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).select_related("invited_by", "custom_role")
    return list(rows.order_by("-created_at"))


def custom_roles(*, organization_id: int) -> QuerySet[CustomRole]:
    return CustomRole.objects.filter(organization_id=organization_id).order_by("name")


@dataclass(frozen=True)
class AuditFilters:
    action: str = ""
    actor: str = ""
    since: date | None = None
    until: date | None = None

    @classmethod
    def from_query(cls, query: Any) -> AuditFilters:
        def day(name: str) -> date | None:
            try:
                return date.fromisoformat(query.get(name, "")) if query.get(name) else None
            except ValueError:
                return None

        return cls(
            action=query.get("action", "").strip()[:60],
            actor=query.get("actor", "").strip()[:150],
            since=day("since"),
            until=day("until"),
        )


def audit_list(
    *, organization_id: int, filters: AuditFilters, limit: int | None = AUDIT_PAGE_SIZE
) -> QuerySet[AuditLog]:
    """The organization's audit log, newest first (indexed on organization and time), narrowed by ``filters``."""
    rows = AuditLog.objects.filter(organization_id=organization_id)
    if filters.action:
        rows = rows.filter(action__startswith=filters.action)
    if filters.actor:
        rows = rows.filter(actor_name__iexact=filters.actor)
    tz = timezone.get_current_timezone()
    if filters.since:
        rows = rows.filter(created_at__gte=datetime.combine(filters.since, time.min, tzinfo=tz))
    if filters.until:
        rows = rows.filter(created_at__lte=datetime.combine(filters.until, time.max, tzinfo=tz))
    rows = rows.order_by("-created_at", "-id")
    return rows[:limit] if limit else rows


def audit_actions(*, organization_id: int) -> list[str]:
    return list(
        AuditLog.objects.filter(organization_id=organization_id)
        .order_by("action")
        .values_list("action", flat=True)
        .distinct()
    )
