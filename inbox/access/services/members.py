"""Changing who is in an organization and what they may do: role, custom role, channels, teams, deactivation,
ownership. Every function checks the actor first (``manage_members``; ownership needs the owner), changes rows
in one transaction, writes the audit row in it, and ends access after commit.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from inbox import events, permissions
from inbox.access.models import CustomRole, MemberAccess
from inbox.access.services import sessions
from inbox.access.services.audit import audit_record
from inbox.models import Channel, Membership, Role, Team

ASSIGNABLE_ROLES = (Role.ADMIN, Role.SUPERVISOR, Role.AGENT)


def _check_manager(actor: Any, membership: Membership) -> Membership:
    """The actor's membership if they may manage ``membership`` (never themselves, never the owner)."""
    actor_membership = permissions.check_permission(actor, membership.organization_id, "manage_members")
    if membership.user_id == actor.pk:
        raise PermissionDenied("You cannot change your own access; ask another admin or the owner.")
    if membership.role == Role.OWNER:
        raise PermissionDenied("The owner's access changes only by transferring ownership.")
    if membership.role == Role.ADMIN and actor_membership.role != Role.OWNER:
        raise PermissionDenied("Only the owner can change an admin.")
    return actor_membership


def access_for(membership: Membership) -> MemberAccess:
    access, _ = MemberAccess.objects.get_or_create(membership=membership)
    return access


@transaction.atomic
def member_change_role(
    *, actor: Any, membership: Membership, role: str, custom_role: CustomRole | None = None, ip: str | None = None
) -> Membership:
    """Give ``membership`` a base role (admin, supervisor, agent) and optionally a custom role of the same org.

    Only the owner makes admins. The owner role moves only by ``ownership_transfer``.
    """
    actor_membership = _check_manager(actor, membership)
    if role not in ASSIGNABLE_ROLES:
        raise ValidationError(gettext("Choose admin, supervisor or agent (ownership is transferred, not assigned)."))
    if role == Role.ADMIN and actor_membership.role != Role.OWNER:
        raise PermissionDenied("Only the owner can make someone an admin.")
    if custom_role is not None and custom_role.organization_id != membership.organization_id:
        raise ValidationError(gettext("That custom role belongs to another organization."))
    access = access_for(membership)
    before = {"role": membership.role, "custom_role": access.custom_role.name if access.custom_role else None}
    membership.role = role
    membership.save(update_fields=["role"])
    access.custom_role = custom_role
    access.save(update_fields=["custom_role"])
    audit_record(
        organization_id=membership.organization_id,
        actor=actor,
        action="member.role_changed",
        target_type="member",
        target_id=membership.pk,
        target_label=membership.user.get_username(),
        details={"before": before, "after": {"role": role, "custom_role": custom_role.name if custom_role else None}},
        ip=ip,
    )
    return membership


@transaction.atomic
def member_set_access(
    *,
    actor: Any,
    membership: Membership,
    channel_ids: list[int],
    team_ids: list[int],
    only_assigned: bool,
    ip: str | None = None,
) -> Membership:
    """Set the channels and teams a member works in, and whether they see only conversations assigned to them."""
    _check_manager(actor, membership)
    org_id = membership.organization_id
    channels = list(Channel.objects.filter(organization_id=org_id, pk__in=channel_ids))
    teams = list(Team.objects.filter(organization_id=org_id, pk__in=team_ids))
    if len(channels) != len(set(channel_ids)) or len(teams) != len(set(team_ids)):
        raise ValidationError(gettext("Some channels or teams do not exist in this organization."))
    membership.channels.set(channels)
    membership.teams.set(teams)
    access = access_for(membership)
    access.only_assigned = only_assigned
    access.save(update_fields=["only_assigned"])
    audit_record(
        organization_id=org_id,
        actor=actor,
        action="member.access_changed",
        target_type="member",
        target_id=membership.pk,
        target_label=membership.user.get_username(),
        details={
            "channels": sorted(c.pk for c in channels),
            "teams": sorted(t.pk for t in teams),
            "only_assigned": only_assigned,
        },
        ip=ip,
    )
    return membership


@transaction.atomic
def member_deactivate(*, actor: Any, membership: Membership, ip: str | None = None) -> Membership:
    """Deactivate a member: from the commit on, their sessions are gone, their API token deleted, their open
    websockets closed, and every query scoped by the policy returns nothing of this organization for them.

    OAuth tokens of apps they authorized stop working too: the OAuth authentication checks the membership.
    """
    _check_manager(actor, membership)
    if not membership.is_active:
        return membership
    membership.is_active = False
    membership.save(update_fields=["is_active"])
    access = access_for(membership)
    access.deactivated_at = timezone.now()
    access.deactivated_by = actor
    access.save(update_fields=["deactivated_at", "deactivated_by"])
    user_id = membership.user_id
    ended = sessions.user_sessions_end(user_id=user_id)
    tokens = sessions.user_tokens_revoke(user_id=user_id)
    audit_record(
        organization_id=membership.organization_id,
        actor=actor,
        action="member.deactivated",
        target_type="member",
        target_id=membership.pk,
        target_label=membership.user.get_username(),
        details={"sessions_ended": ended, "api_access_revoked": bool(tokens)},
        ip=ip,
    )
    events.publish(
        "member.deactivated",
        organization_id=membership.organization_id,
        membership_id=membership.pk,
        user_id=user_id,
        actor_id=actor.pk,
    )
    transaction.on_commit(lambda: sessions.user_websockets_close(user_id=user_id))
    return membership


@transaction.atomic
def member_reactivate(*, actor: Any, membership: Membership, ip: str | None = None) -> Membership:
    _check_manager(actor, membership)
    if membership.is_active:
        return membership
    membership.is_active = True
    membership.save(update_fields=["is_active"])
    MemberAccess.objects.filter(membership=membership).update(deactivated_at=None, deactivated_by=None)
    audit_record(
        organization_id=membership.organization_id,
        actor=actor,
        action="member.reactivated",
        target_type="member",
        target_id=membership.pk,
        target_label=membership.user.get_username(),
        ip=ip,
    )
    return membership


@transaction.atomic
def ownership_transfer(*, actor: Any, new_owner: Membership, ip: str | None = None) -> Membership:
    """Make ``new_owner`` (an active member) the owner; the previous owner becomes an admin. Owner only."""
    current = permissions.check_permission(actor, new_owner.organization_id, "transfer_ownership")
    # Lock both rows: two concurrent transfers must not leave two owners.
    locked = {
        m.pk: m for m in Membership.objects.select_for_update().filter(pk__in=[current.pk, new_owner.pk]).order_by("pk")
    }
    current, new_owner = locked[current.pk], locked.get(new_owner.pk, new_owner)
    if current.role != Role.OWNER:
        raise PermissionDenied("Only the owner can transfer ownership.")
    if new_owner.pk == current.pk:
        raise ValidationError(gettext("You already own this organization."))
    if not new_owner.is_active:
        raise ValidationError(gettext("Reactivate this member before making them the owner."))
    current.role = Role.ADMIN
    current.save(update_fields=["role"])
    new_owner.role = Role.OWNER
    new_owner.save(update_fields=["role"])
    MemberAccess.objects.filter(membership=new_owner).update(custom_role=None, only_assigned=False)
    audit_record(
        organization_id=new_owner.organization_id,
        actor=actor,
        action="organization.ownership_transferred",
        target_type="member",
        target_id=new_owner.pk,
        target_label=new_owner.user.get_username(),
        details={"previous_owner": actor.get_username()},
        ip=ip,
    )
    return new_owner
