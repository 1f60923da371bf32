"""Invitations by email link. The token is 32 random bytes shown once in the email; only its hash is stored."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from inbox import permissions
from inbox.access.models import CustomRole, Invitation, MemberAccess
from inbox.access.services.audit import audit_record
from inbox.models import Membership, Organization, Role


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_url(token: str) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + reverse("access:invitation-accept", args=[token])


@transaction.atomic
def invitation_create(
    *,
    actor: Any,
    organization: Organization | int,
    email: str,
    role: str = Role.AGENT,
    custom_role: CustomRole | None = None,
    ip: str | None = None,
) -> tuple[Invitation, str]:
    """Invite ``email`` with a role; the email (sent after commit) carries the only copy of the link.

    Returns the invitation and the token (for the caller to show "link sent"; never store it).
    """
    membership = permissions.check_permission(actor, organization, "manage_members")
    email = (email or "").strip().lower()
    validate_email(email)
    if role not in (Role.ADMIN, Role.SUPERVISOR, Role.AGENT):
        raise ValidationError(gettext("Invite as admin, supervisor or agent."))
    if role == Role.ADMIN and membership.role != Role.OWNER:
        raise PermissionDenied("Only the owner can invite admins.")
    if custom_role is not None and custom_role.organization_id != membership.organization_id:
        raise ValidationError(gettext("That custom role belongs to another organization."))
    org = membership.organization
    if Membership.objects.filter(organization=org, user__email__iexact=email, is_active=True).exists():
        raise ValidationError(gettext("%(email)s is already a member.") % {"email": email})
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        organization=org,
        email=email,
        role=role,
        custom_role=custom_role,
        token_hash=token_hash(token),
        expires_at=timezone.now() + timedelta(days=settings.INVITATION_VALID_DAYS),
        invited_by=actor,
    )
    audit_record(
        organization_id=org.pk,
        actor=actor,
        action="invitation.created",
        target_type="invitation",
        target_id=invitation.pk,
        target_label=email,
        details={"role": role, "custom_role": custom_role.name if custom_role else None},
        ip=ip,
    )
    url = invitation_url(token)
    inviter = actor.get_full_name() or actor.get_username()
    transaction.on_commit(
        lambda: send_mail(
            subject=f"{inviter} invited you to {org.name} on Switchboard",
            message=f"Join {org.name} on Switchboard as {role}:\n\n{url}\n\n"
            f"The link works once and expires in {settings.INVITATION_VALID_DAYS} days.",
            from_email=None,
            recipient_list=[email],
        )
    )
    return invitation, token


def invitation_get(*, token: str) -> Invitation | None:
    """The pending invitation behind ``token``; None when unknown, used, revoked or expired."""
    invitation = (
        Invitation.objects.select_related("organization", "custom_role")
        .filter(token_hash=token_hash(token or ""))
        .first()
    )
    return invitation if invitation is not None and invitation.is_pending else None


@transaction.atomic
def invitation_accept(*, token: str, user: Any, ip: str | None = None) -> Membership:
    """Join the organization with the invited role. Works once; a deactivated member is not let back in."""
    if not getattr(user, "is_authenticated", False):
        raise PermissionDenied("Log in or create an account to accept the invitation.")
    invitation = Invitation.objects.select_for_update().filter(token_hash=token_hash(token or "")).first()
    if invitation is None or not invitation.is_pending:
        raise ValidationError(gettext("This invitation link is not valid any more. Ask for a new one."))
    existing = Membership.objects.filter(user=user, organization_id=invitation.organization_id).first()
    if existing is not None and existing.is_active:
        raise ValidationError(gettext("You are already a member of this organization."))
    if existing is not None:
        raise PermissionDenied("Your access to this organization was deactivated; ask an admin to reactivate it.")
    membership = Membership.objects.create(user=user, organization_id=invitation.organization_id, role=invitation.role)
    MemberAccess.objects.create(membership=membership, custom_role=invitation.custom_role)
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    audit_record(
        organization_id=invitation.organization_id,
        actor=user,
        action="invitation.accepted",
        target_type="member",
        target_id=membership.pk,
        target_label=user.get_username(),
        details={"role": invitation.role, "email": invitation.email},
        ip=ip,
    )
    return membership


@transaction.atomic
def invitation_revoke(*, actor: Any, invitation: Invitation, ip: str | None = None) -> Invitation:
    permissions.check_permission(actor, invitation.organization_id, "manage_members")
    if invitation.accepted_at is None and invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit_record(
            organization_id=invitation.organization_id,
            actor=actor,
            action="invitation.revoked",
            target_type="invitation",
            target_id=invitation.pk,
            target_label=invitation.email,
            ip=ip,
        )
    return invitation
