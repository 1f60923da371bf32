"""``{% user_can "manage_members" as allowed %}``: ask the policy from a template (e.g. to show a nav link)."""

from __future__ import annotations

from typing import Any

from django import template

from inbox import permissions

register = template.Library()


@register.simple_tag(takes_context=True)
def user_can(context: dict[str, Any], perm: str) -> bool:
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return user is not None and permissions.has_permission(user, None, perm)
