"""Who may do what in commerce, on top of the one policy in ``inbox.permissions`` (which scopes everything).

Anyone who can see a conversation may take orders and bookings in it. Money-sensitive moves (recording a manual
payment, refunding) need the ``manage_payments`` permission, the catalog and resources ``manage_catalog``: by
default supervisors, admins and owners hold both, and an admin can grant them through a custom role.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from inbox import permissions
from inbox.models import Conversation, Organization


def check_can_use_conversation(user: object, conversation: Conversation) -> None:
    if not permissions.can_view_conversation(user, conversation):
        raise PermissionDenied("You do not have access to this conversation.")


def can_handle_money(user: object, organization: Organization | int) -> bool:
    return permissions.has_permission(user, organization, "manage_payments")


def check_can_handle_money(user: object, organization: Organization | int) -> None:
    if not can_handle_money(user, organization):
        raise PermissionDenied(
            "Only a supervisor, admin or owner (or a custom role allowing it) may record payments or refunds."
        )


def can_manage_catalog(user: object, organization: Organization | int | None = None) -> bool:
    return permissions.has_permission(user, organization, "manage_catalog")


def check_can_manage_catalog(user: object, organization: Organization | int) -> None:
    if not can_manage_catalog(user, organization):
        raise PermissionDenied(
            "Only a supervisor, admin or owner (or a custom role allowing it) may change the catalog or the resources."
        )
