"""The one permission policy. Every entry point (page, API, websocket, export, search) asks it.

Owners, admins and supervisors see every conversation of their organization; agents see the conversations of
the channels they were given access to. Querysets are scoped here, never filtered ad hoc in a view.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from inbox.models import Channel, Conversation, Membership, Organization, Role

ALL_CHANNEL_ROLES = {Role.OWNER, Role.ADMIN, Role.SUPERVISOR}
MANAGER_ROLES = {Role.OWNER, Role.ADMIN}

User = AbstractBaseUser | AnonymousUser


def active_membership(user: User, organization: Organization | int | None = None) -> Membership | None:
    """The user's active membership (in ``organization`` if given, else their first one)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    memberships = Membership.objects.filter(user=user, is_active=True).select_related("organization")
    if organization is not None:
        memberships = memberships.filter(organization=organization)
    return memberships.order_by("id").first()


def require_membership(user: User, organization: Organization | int | None = None) -> Membership:
    membership = active_membership(user, organization)
    if membership is None:
        raise PermissionDenied("You are not a member of this organization.")
    return membership


def visible_channels(user: User, organization: Organization | int | None = None) -> QuerySet[Channel]:
    membership = active_membership(user, organization)
    if membership is None:
        return Channel.objects.none()
    channels = Channel.objects.filter(organization_id=membership.organization_id)
    if membership.role in ALL_CHANNEL_ROLES:
        return channels
    return channels.filter(members=membership)


def visible_channel_ids(user: User, organization: Organization | int | None = None) -> list[int]:
    return list(visible_channels(user, organization).values_list("id", flat=True))


def visible_conversations(user: User, organization: Organization | int | None = None) -> QuerySet[Conversation]:
    membership = active_membership(user, organization)
    if membership is None:
        return Conversation.objects.none()
    conversations = Conversation.objects.filter(organization_id=membership.organization_id)
    if membership.role in ALL_CHANNEL_ROLES:
        return conversations
    return conversations.filter(channel__members=membership)


def can_view_conversation(user: User, conversation: Conversation) -> bool:
    return visible_conversations(user, conversation.organization_id).filter(pk=conversation.pk).exists()


def check_can_reply(user: User, conversation: Conversation) -> None:
    if not can_view_conversation(user, conversation):
        raise PermissionDenied("You do not have access to this conversation.")


def can_manage_channels(user: User, organization: Organization | int | None = None) -> bool:
    membership = active_membership(user, organization)
    return membership is not None and membership.role in MANAGER_ROLES
