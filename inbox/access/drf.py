"""DRF permission classes built on the policy (``inbox.permissions``), for every API view.

``IsActiveMember`` is in ``REST_FRAMEWORK["DEFAULT_PERMISSION_CLASSES"]``: an authenticated user without an
active membership (deactivated, or never invited) gets 403 from every endpoint, not empty lists.
``HasPolicyPermission`` lets a view declare ``required_permission = "manage_orders"`` (or a dict per method).
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from inbox import permissions


class IsActiveMember(BasePermission):
    message = "You are not an active member of any organization."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not getattr(user, "is_authenticated", False):
            return True  # IsAuthenticated answers 401/403 for anonymous requests; this class is about members
        permissions.remember_memberships(user)  # the view asks again: answer from memory within this request
        return permissions.active_membership(user) is not None


class HasPolicyPermission(BasePermission):
    """``view.required_permission``: a permission name, or ``{"POST": "manage_orders", ...}`` by method."""

    message = "Your role does not allow this."

    def has_permission(self, request: Request, view: Any) -> bool:
        required = getattr(view, "required_permission", None)
        if isinstance(required, dict):
            required = required.get(request.method)
        if not required:
            return True
        return permissions.has_permission(request.user, None, required)
