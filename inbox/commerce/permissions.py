"""Who may do what in commerce, on top of the one policy in ``inbox.permissions`` (which scopes everything).

Anyone who can see a conversation may take orders and bookings in it. Money-sensitive moves (recording a manual
payment, refunding) and the catalog and resources need a supervisor, admin or owner.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from inbox import permissions
from inbox.models import Conversation, Organization, Role

MONEY_ROLES = {Role.OWNER, Role.ADMIN, Role.SUPERVISOR}


def check_can_use_conversation(user: object, conversation: Conversation) -> None:
    if not permissions.can_view_conversation(user, conversation):
        raise PermissionDenied("You do not have access to this conversation.")


def can_handle_money(user: object, organization: Organization | int) -> bool:
    membership = permissions.active_membership(user, organization)
    return membership is not None and membership.role in MONEY_ROLES


def check_can_handle_money(user: object, organization: Organization | int) -> None:
    if not can_handle_money(user, organization):
        raise PermissionDenied("Only a supervisor, admin or owner may record payments or refunds.")


def can_manage_catalog(user: object, organization: Organization | int | None = None) -> bool:
    membership = permissions.active_membership(user, organization)
    return membership is not None and membership.role in MONEY_ROLES


def check_can_manage_catalog(user: object, organization: Organization | int) -> None:
    if not can_manage_catalog(user, organization):
        raise PermissionDenied("Only a supervisor, admin or owner may change the catalog or the resources.")
