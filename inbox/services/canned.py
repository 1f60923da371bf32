"""Canned replies: prepared answers typed as ``/short_code`` in the composer, with variables.

Variables are written ``{{contact.name}}``. inbox provides ``contact.name``, ``contact.phone``,
``agent.name`` and ``channel.name``; other apps register more (commerce: ``order.number``) with
``register_variable``. A variable with no value renders as an empty string and is reported as missing, so the
composer can point at it before the agent sends.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from inbox import permissions
from inbox.models import CannedReply, Conversation

VARIABLE = re.compile(r"\{\{\s*([a-z_]+\.[a-z_]+)\s*\}\}")
Resolver = Callable[[Conversation, Any], str]

_variables: dict[str, Resolver] = {
    "contact.name": lambda c, agent: c.contact.name or c.identity.display_name,
    "contact.phone": lambda c, agent: c.contact.phone,
    "contact.email": lambda c, agent: c.contact.email,
    "agent.name": lambda c, agent: (agent.get_full_name() or agent.get_username()) if agent else "",
    "channel.name": lambda c, agent: c.channel.name,
    # Filled by the commerce app (register_variable("order.number", ...)); empty until then.
    "order.number": lambda c, agent: "",
}


def register_variable(name: str, resolve: Resolver) -> None:
    """Add or replace a variable: ``resolve(conversation, agent) -> str`` (empty string when unknown)."""
    if not re.fullmatch(r"[a-z_]+\.[a-z_]+", name):
        raise ValueError("variable names look like 'order.number'")
    _variables[name] = resolve


def known_variables() -> list[str]:
    return sorted(_variables)


def _clean(short_code: str, body: str) -> tuple[str, str]:
    code = slugify((short_code or "").lstrip("/"))[:40]
    if not code:
        raise ValidationError(_("A canned reply needs a short code (letters, digits, dashes)."))
    body = (body or "").strip()
    if not body:
        raise ValidationError(_("A canned reply cannot be empty."))
    unknown = sorted({v for v in VARIABLE.findall(body) if v not in _variables})
    if unknown:
        raise ValidationError(
            f"Unknown variable {{{{{unknown[0]}}}}}: use one of " + ", ".join(f"{{{{{v}}}}}" for v in known_variables())
        )
    return code, body


def _check_editor(user: Any, canned: CannedReply) -> None:
    if canned.created_by_id != user.pk and not permissions.can_manage_channels(user, canned.organization_id):
        raise PermissionDenied(_("Only its author or an admin can change this canned reply."))


def canned_reply_create(*, user: Any, organization_id: int, short_code: str, body: str) -> CannedReply:
    """Any member may add a canned reply; short codes are unique per organization."""
    permissions.require_membership(user, organization_id)
    code, body = _clean(short_code, body)
    try:
        with transaction.atomic():
            return CannedReply.objects.create(
                organization_id=organization_id, short_code=code, body=body, created_by=user
            )
    except IntegrityError as exc:
        raise ValidationError(_("/%(code)s already exists.") % {"code": code}) from exc


def canned_reply_update(*, user: Any, canned: CannedReply, short_code: str | None = None, body: str | None = None):
    """Change a canned reply (its author or an admin)."""
    _check_editor(user, canned)
    code, body = _clean(
        short_code if short_code is not None else canned.short_code, body if body is not None else canned.body
    )
    canned.short_code, canned.body, canned.updated_at = code, body, timezone.now()
    try:
        with transaction.atomic():
            canned.save(update_fields=["short_code", "body", "updated_at"])
    except IntegrityError as exc:
        raise ValidationError(_("/%(code)s already exists.") % {"code": code}) from exc
    return canned


def canned_reply_delete(*, user: Any, canned: CannedReply) -> None:
    _check_editor(user, canned)
    canned.delete()


@dataclass(frozen=True)
class Rendered:
    text: str
    missing: list[str]


def canned_reply_render(*, canned: CannedReply, conversation: Conversation, user: Any) -> Rendered:
    """The canned reply's text for this conversation, its variables filled in; ``missing`` lists empty ones."""
    permissions.check_can_view(user, conversation)
    if canned.organization_id != conversation.organization_id:
        raise PermissionDenied(_("That canned reply belongs to another organization."))
    missing: list[str] = []
    pii_visible = permissions.can_see_contact_pii(user, conversation.organization_id)

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        value = _variables.get(name, lambda c, a: "")(conversation, user) or ""
        if not value:
            missing.append(name)
        elif name in permissions.PII_VARIABLES and not pii_visible:
            return match.group(0)  # issue 5: filled when sent (message_send_reply), never shown to this agent
        return str(value)

    return Rendered(VARIABLE.sub(fill, canned.body), missing)
