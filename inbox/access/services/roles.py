"""Custom roles: a named list of permissions from ``inbox.permissions.PERMISSION_CATALOGUE``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from inbox import permissions
from inbox.access.models import CustomRole
from inbox.access.services.audit import audit_record
from inbox.models import Organization


def _clean(name: str, perms: list[str]) -> tuple[str, list[str]]:
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise ValidationError(gettext("A role needs a name of at most 80 characters."))
    unknown = sorted(set(perms) - set(permissions.PERMISSION_CATALOGUE))
    if unknown:
        raise ValidationError(gettext("Unknown permissions: %(value)s.") % {"value": ", ".join(unknown)})
    return name, sorted(set(perms))


@transaction.atomic
def custom_role_create(
    *,
    actor: Any,
    organization: Organization | int,
    name: str,
    perms: list[str],
    description: str = "",
    ip: str | None = None,
) -> CustomRole:
    membership = permissions.check_permission(actor, organization, "manage_members")
    name, perms = _clean(name, perms)
    try:
        with transaction.atomic():
            role = CustomRole.objects.create(
                organization_id=membership.organization_id, name=name, permissions=perms, description=description[:200]
            )
    except IntegrityError as exc:
        raise ValidationError(gettext("A role named %(name)s already exists.") % {"name": repr(name)}) from exc
    audit_record(
        organization_id=membership.organization_id,
        actor=actor,
        action="role.created",
        target_type="role",
        target_id=role.pk,
        target_label=name,
        details={"permissions": perms},
        ip=ip,
    )
    return role


@transaction.atomic
def custom_role_update(
    *, actor: Any, role: CustomRole, name: str, perms: list[str], description: str = "", ip: str | None = None
) -> CustomRole:
    permissions.check_permission(actor, role.organization_id, "manage_members")
    name, perms = _clean(name, perms)
    before = sorted(role.permissions)
    role.name, role.permissions, role.description = name, perms, description[:200]
    try:
        with transaction.atomic():
            role.save(update_fields=["name", "permissions", "description"])
    except IntegrityError as exc:
        raise ValidationError(gettext("A role named %(name)s already exists.") % {"name": repr(name)}) from exc
    audit_record(
        organization_id=role.organization_id,
        actor=actor,
        action="role.updated",
        target_type="role",
        target_id=role.pk,
        target_label=name,
        details={"before": before, "after": perms},
        ip=ip,
    )
    return role


@transaction.atomic
def custom_role_delete(*, actor: Any, role: CustomRole, ip: str | None = None) -> None:
    """Delete a role; its members fall back to their base role's defaults."""
    permissions.check_permission(actor, role.organization_id, "manage_members")
    audit_record(
        organization_id=role.organization_id,
        actor=actor,
        action="role.deleted",
        target_type="role",
        target_id=role.pk,
        target_label=role.name,
        details={"members": role.members.count()},
        ip=ip,
    )
    role.delete()
