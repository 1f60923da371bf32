"""Rows the permission policy reads (custom roles, per-member access) and the people-management records.

Invitation tokens are stored only as a SHA-256 hash: the link in the email is the only copy of the secret.
Audit rows never hold secrets or message text (``inbox.access.services.audit`` strips them).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from inbox.models import Membership, Organization, Role


class CustomRole(models.Model):
    """A named set of permissions from ``inbox.permissions.PERMISSION_CATALOGUE``, made by an organization's admins."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="custom_roles")
    name = models.CharField(max_length=80)
    description = models.CharField(max_length=200, blank=True, default="")
    permissions = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="custom_role_unique_name")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MemberAccess(models.Model):
    """What narrows or replaces a member's role: a custom role, "only conversations assigned to me", deactivation.

    Absent row = the role's defaults. ``Membership.is_active`` stays the switch every query reads; the
    ``deactivated_*`` fields say who switched it off and when.
    """

    membership = models.OneToOneField(Membership, on_delete=models.CASCADE, related_name="access")
    custom_role = models.ForeignKey(
        CustomRole, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    only_assigned = models.BooleanField(default=False)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    deactivated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"Access of {self.membership}"


class Invitation(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.AGENT)
    custom_role = models.ForeignKey(CustomRole, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # Owners are made by transferring ownership, never by invitation.
            models.CheckConstraint(condition=~Q(role="owner"), name="invitation_not_owner"),
        ]
        indexes = [models.Index(fields=["organization", "-created_at"], name="invitation_org_recent")]

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > timezone.now()


class AuditLog(models.Model):
    """Who did what and when. ``details`` is small structured JSON: never a secret, token or message text."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="audit_log")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True, default="")  # kept when the user is deleted
    action = models.CharField(max_length=60)
    target_type = models.CharField(max_length=40, blank=True, default="")
    target_id = models.CharField(max_length=64, blank=True, default="")
    target_label = models.CharField(max_length=200, blank=True, default="")
    details = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["organization", "-created_at", "-id"], name="audit_org_recent"),
            models.Index(fields=["organization", "action", "-created_at"], name="audit_org_action_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_name or 'system'} {self.action} {self.target_type}:{self.target_id}"
