"""Who acts through an inbox service when it is not a member: automation.

Services take ``user=`` (a member, checked by :mod:`inbox.permissions`). Automation passes an
:class:`AutomationActor` instead: the rule and version that fired. It is not a user (``is_authenticated`` is
False, so every permission check of the policy refuses it); the services that accept it check only that it acts
inside its own organization, because an admin's saved rule is what asked for the change. Nothing it does is
recorded under the rule's author: rows that point at a user get none, and events and the audit log name
"Automation: <rule> v<n>".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext

from inbox import permissions
from inbox.models import Conversation
from inbox.selectors import automation_label


@dataclass(frozen=True)
class AutomationActor:
    organization_id: int
    rule_id: int
    rule_name: str
    version: int

    is_authenticated = False
    is_active = False
    pk = None

    @property
    def name(self) -> str:
        return automation_label(self.rule_name, self.version)

    def get_username(self) -> str:
        return self.name

    def as_dict(self) -> dict[str, Any]:
        return {"kind": "automation", "name": self.name, "rule_id": self.rule_id, "version": self.version}


def check_can_act(user: Any, conversation: Conversation) -> None:
    """The permission check of conversation services: a member through the policy, automation in its own
    organization only."""
    if isinstance(user, AutomationActor):
        if user.organization_id != conversation.organization_id:
            raise PermissionDenied(gettext("This rule belongs to another organization."))
        return
    permissions.check_can_view(user, conversation)


def acting_user(user: Any) -> Any:
    """What to store in a ``user`` foreign key: the member, or nobody for automation."""
    return None if isinstance(user, AutomationActor) else user


def automation_metadata(user: Any) -> dict[str, Any]:
    """What a row written by automation keeps of the rule (``{"automation": {...}}``, as automated messages keep
    in ``Message.metadata``); empty for members."""
    if not isinstance(user, AutomationActor):
        return {}
    return {"automation": {"rule_id": user.rule_id, "rule_name": user.rule_name, "version": user.version}}


def actor_payload(user: Any) -> dict[str, Any] | None:
    """The ``actor`` of a published event when it is not a member (``None`` for members: unchanged payloads)."""
    return user.as_dict() if isinstance(user, AutomationActor) else None
