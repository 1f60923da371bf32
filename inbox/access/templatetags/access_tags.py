"""``{% user_can "manage_members" as allowed %}``: ask the policy from a template (e.g. to show a nav link)."""

from __future__ import annotations

import contextlib
from typing import Any

from django import template

from inbox import permissions

register = template.Library()


@register.simple_tag(takes_context=True)
def user_can(context: dict[str, Any], perm: str) -> bool:
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return user is not None and permissions.has_permission(user, None, perm)


@register.filter
def pii_masked_for(text: str, user: Any) -> str:
    """``{{ message.body|pii_masked_for:request.user }}``: phone numbers and emails typed in text are masked for a
    viewer without ``see_contact_pii`` (issue 5). The answer is kept on the user object for the request."""
    if not text or user is None:
        return text
    visible = getattr(user, "_pii_visible", None)
    if visible is None:
        visible = permissions.can_see_contact_pii(user, None)
        with contextlib.suppress(AttributeError):  # objects without a __dict__ just ask again
            user._pii_visible = visible
    return text if visible else permissions.mask_text_pii(text)
