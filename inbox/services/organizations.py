"""Organizations and their members."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.text import slugify

from inbox.models import Membership, Organization, Role


def organization_create(*, name: str, slug: str = "") -> Organization:
    return Organization.objects.create(name=name, slug=slug or slugify(name))


@transaction.atomic
def member_add(
    *, organization: Organization, username: str, password: str | None, role: str = Role.AGENT, email: str = ""
) -> Membership:
    """Create (or reuse) a user and make them a member with ``role``. ``password=None`` keeps the current one."""
    User = get_user_model()
    user, created = User.objects.get_or_create(username=username, defaults={"email": email})
    if password is not None and (created or not user.has_usable_password()):
        user.set_password(password)
        user.save()
    membership, _ = Membership.objects.update_or_create(
        user=user, organization=organization, defaults={"role": role, "is_active": True}
    )
    return membership
