"""What a rule can do, validated when it is saved and executed when it fires.

Each executor returns one log entry ``{"type", "status", "detail", ...}`` with ``status`` one of ``done``,
``failed`` (with the reason, e.g. the channel's reply window is closed), ``unavailable`` (the inbox feature does
not exist yet) or ``skipped``. An executor never raises: one failing action does not stop the others.

Inbox services used (looked up lazily by name, see :mod:`inbox.automation.inbox_bridge`). They check that a
user may see the conversation, so automation calls them as the author of the rule version (``user=``):

* ``inbox.services.messages.message_send_automated(conversation=, text=, metadata=)`` (no user)
* ``label_apply(user=, conversation=, label=<Label>)`` / ``label_remove(user=, conversation=, label=<Label>)``
* ``conversation_assign(user=, conversation=, assignee=<User>[, team=<Team>])``
* ``conversation_set_status(user=, conversation=, status=)`` / ``conversation_set_priority(user=, conversation=,
  priority=)``
* ``note_add(user=, conversation=, body=)``
* ``order_create_draft(user=, conversation=, ...)`` from ``inbox.commerce.services``, else
  ``order_create(user=, conversation=, lines=[])`` (an empty draft)
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext

from inbox.automation import inbox_bridge
from inbox.automation.inbox_bridge import Unavailable
from inbox.models import Conversation, Membership, Message, Role, Team

logger = logging.getLogger(__name__)

ACTION_TYPES = {
    "send_reply": "Send a reply",
    "add_label": "Add a label",
    "remove_label": "Remove a label",
    "assign": "Assign (round-robin among agents)",
    "set_status": "Set the status",
    "set_priority": "Set the priority",
    "add_note": "Add a private note",
    "create_draft_order": "Create a draft order",
}
VARIABLES = ("contact.name", "contact.first_name", "agent.name", "channel.name", "organization.name")
_VARIABLE = re.compile(r"\{\{\s*([a-z_]+\.[a-z_]+)\s*\}\}")
_COMMERCE = ("inbox.commerce.services", "commerce.services")


def clean_actions(raw: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Validate a list of actions; raise ``ValueError`` with a sentence naming the bad one."""
    cleaned: list[dict[str, Any]] = []
    for n, action in enumerate(raw, start=1):
        kind = action.get("type")
        if kind not in ACTION_TYPES:
            raise ValueError(f"Action {n}: unknown action “{kind}”.")
        item: dict[str, Any] = {"type": kind}
        if kind in ("send_reply", "add_note"):
            text = str(action.get("text") or "").strip()
            if not text:
                raise ValueError(f"Action {n}: the text is empty.")
            unknown = sorted(set(_VARIABLE.findall(text)) - set(VARIABLES))
            if unknown:
                raise ValueError(
                    f"Action {n}: unknown variable {{{{{unknown[0]}}}}}; use one of {', '.join(VARIABLES)}."
                )
            item["text"] = text
            if kind == "send_reply" and action.get("template"):
                item["template"] = _clean_template(action["template"], n)
        elif kind in ("add_label", "remove_label"):
            label = str(action.get("label") or "").strip()
            if not label:
                raise ValueError(f"Action {n}: name the label.")
            item["label"] = label
        elif kind == "assign":
            if action.get("team_id"):
                item["team_id"] = int(action["team_id"])
        elif kind == "set_status":
            if action.get("status") not in Conversation.Status.values:
                raise ValueError(f"Action {n}: unknown status “{action.get('status')}”.")
            item["status"] = action["status"]
        elif kind == "set_priority":
            if action.get("priority") not in Conversation.Priority.values:
                raise ValueError(f"Action {n}: unknown priority “{action.get('priority')}”.")
            item["priority"] = action["priority"]
        cleaned.append(item)
    return cleaned


def _clean_template(raw: Any, n: int) -> dict[str, Any]:
    """The WhatsApp template a reply falls back to past the 24-hour window: name, language, variable values."""
    if not isinstance(raw, Mapping):
        raise ValueError(f"Action {n}: the template must name a template and its language.")
    name = str(raw.get("name") or "").strip()
    language = str(raw.get("language") or "").strip()
    if not name or not language:
        raise ValueError(f"Action {n}: the template needs a name and a language code (e.g. en_US).")
    params = raw.get("params") or []
    if not isinstance(params, list | tuple) or len(params) > 50:
        raise ValueError(f"Action {n}: the template's values must be a list.")
    cleaned = [str(p).strip() for p in params]
    if any(not p for p in cleaned):
        raise ValueError(f"Action {n}: a template value is empty.")
    unknown = sorted({v for p in cleaned for v in _VARIABLE.findall(p)} - set(VARIABLES))
    if unknown:
        raise ValueError(f"Action {n}: unknown variable {{{{{unknown[0]}}}}}; use one of {', '.join(VARIABLES)}.")
    return {"name": name[:512], "language": language[:20], "params": cleaned}


def render(text: str, conversation: Conversation) -> str:
    """Fill ``{{contact.name}}`` and the other :data:`VARIABLES` for this conversation."""
    contact_name = conversation.contact.name or conversation.identity.display_name or ""
    agent = conversation.assignee
    values = {
        "contact.name": contact_name or "there",
        "contact.first_name": (contact_name.split() or ["there"])[0],
        "agent.name": (agent.get_full_name() or agent.get_username()) if agent else "our team",
        "channel.name": conversation.channel.name,
        "organization.name": conversation.organization.name,
    }
    return _VARIABLE.sub(lambda m: values.get(m.group(1), ""), text)


def describe(action: Mapping[str, Any]) -> str:
    """The action in words, for the rules list and the sandbox."""
    kind = action.get("type", "")
    label = ACTION_TYPES.get(kind, kind)
    detail = action.get("text") or action.get("label") or action.get("status") or action.get("priority") or ""
    template = action.get("template")
    if template:
        detail = f"{detail} (past the window: template {template.get('name')} {template.get('language')})"
    return f"{label}: {detail}" if detail else label


@dataclass(frozen=True)
class Firing:
    """What an executor knows about the firing: the rule, its version, the matched words, when."""

    rule_id: int
    rule_name: str
    version: int
    matched: list[str]
    at: datetime
    actor: Any = None  # the user services act as: the author of the rule version


def _loop_guard_reason(conversation: Conversation, at: datetime) -> str:
    limit = getattr(settings, "AUTOMATION_LOOP_MAX_REPLIES", 3)
    minutes = getattr(settings, "AUTOMATION_LOOP_WINDOW_MINUTES", 10)
    recent = conversation.messages.filter(
        sender_type=Message.SenderType.AUTOMATION, created_at__gte=at - timedelta(minutes=minutes)
    ).count()
    if recent >= limit:
        return f"loop guard: {recent} automated replies in the last {minutes} minutes"
    return ""


def _send_reply(action: Mapping[str, Any], conversation: Conversation, firing: Firing) -> dict[str, Any]:
    from inbox.services.messages import message_send_automated

    reason = _loop_guard_reason(conversation, firing.at)
    if reason:
        return {"status": "skipped", "detail": reason}
    text = render(action["text"], conversation)
    template = _template_for_reply(action, conversation)
    metadata = {
        "automation": {
            "rule_id": firing.rule_id,
            "rule_name": firing.rule_name,
            "version": firing.version,
            "matched": firing.matched,
        }
    }
    message = message_send_automated(conversation=conversation, text=text, metadata=metadata, template=template)
    return {"status": "done", "detail": message.body, "message_id": message.pk}


def _template_for_reply(action: Mapping[str, Any], conversation: Conversation) -> dict[str, Any] | None:
    """The action's template when only a template may be sent now (WhatsApp past the 24-hour window)."""
    from inbox.channel_rules import composer_state

    template = action.get("template")
    if not template or not composer_state(conversation, human=False).template_only:
        return None
    return {
        "name": template["name"],
        "language": template["language"],
        "parameters": [render(p, conversation) for p in template.get("params") or []],
    }


def _agents(conversation: Conversation, team_id: int | None) -> list[int]:
    memberships = Membership.objects.filter(
        organization_id=conversation.organization_id, is_active=True, user__is_active=True
    )
    if team_id:
        memberships = memberships.filter(teams__id=team_id)
    else:
        memberships = memberships.filter(role__in=[Role.AGENT, Role.SUPERVISOR])
    # An agent only gets conversations of channels they can see.
    eligible = memberships.filter(
        Q(role__in=[Role.OWNER, Role.ADMIN, Role.SUPERVISOR]) | Q(channels=conversation.channel_id)
    )
    return sorted(set(eligible.values_list("user_id", flat=True)))


def _assign(action: Mapping[str, Any], conversation: Conversation, firing: Firing) -> dict[str, Any]:
    from inbox.automation.models import AutoReplyRule

    if inbox_bridge.find_service("conversation_assign") is None:
        raise Unavailable("conversation_assign is not available yet")
    team_id = action.get("team_id")
    team = Team.objects.filter(pk=team_id, organization_id=conversation.organization_id).first() if team_id else None
    if team_id and team is None:
        return {"status": "failed", "detail": "the team no longer exists"}
    rule = AutoReplyRule.objects.select_for_update().get(pk=firing.rule_id)
    candidates = _agents(conversation, team_id)
    if not candidates:
        return {"status": "failed", "detail": "no available agent to assign"}
    after = [uid for uid in candidates if uid > rule.assign_cursor]
    chosen = (after or candidates)[0]
    user = get_user_model().objects.get(pk=chosen)
    kwargs: dict[str, Any] = {"conversation": conversation, "assignee": user}
    if team is not None:
        kwargs["team"] = team
    _call("conversation_assign", kwargs, firing)
    rule.assign_cursor = chosen
    rule.save(update_fields=["assign_cursor"])
    return {"status": "done", "detail": f"assigned to {user.get_username()}", "user_id": chosen}


def _call(service: str, kwargs: dict[str, Any], firing: Firing, *packages: str) -> Any:
    """Call an inbox service as the automation itself (:class:`~inbox.services.actors.AutomationActor`: the rule
    and version, named in events and the audit log), never as the rule's author, so a deactivated author does not
    stop the rule. Commerce services still check a member's role, so they get the author."""
    if packages:
        if firing.actor is None:
            raise Unavailable(f"{service} needs a user and this rule version has no author")
        return inbox_bridge.call_service(service, {**kwargs, "user": firing.actor, "actor": firing.actor}, *packages)
    from inbox.access.services.audit import audit_record
    from inbox.services.actors import AutomationActor

    conversation = kwargs["conversation"]
    actor = AutomationActor(conversation.organization_id, firing.rule_id, firing.rule_name, firing.version)
    result = inbox_bridge.call_service(service, {**kwargs, "user": actor}, *packages)
    entry = audit_record(
        organization_id=conversation.organization_id,
        actor=None,
        action=f"automation.{service}",
        target_type="conversation",
        target_id=conversation.pk,
        target_label=str(conversation.pk),
        details={"rule_id": firing.rule_id, "version": firing.version},
    )
    entry.actor_name = actor.name[:150]
    entry.save(update_fields=["actor_name"])
    return result


def _label(action: Mapping[str, Any], conversation: Conversation) -> Any:
    model = inbox_bridge.label_model()
    if model is None:
        raise Unavailable("labels are not available yet")
    label = model.objects.filter(organization_id=conversation.organization_id, name__iexact=action["label"]).first()
    if label is None:
        raise ValidationError(
            gettext("There is no label named “%(value)s”: create it first.") % {"value": action["label"]}
        )
    return label


def _add_label(action: Mapping[str, Any], conversation: Conversation, firing: Firing) -> dict[str, Any]:
    label = _label(action, conversation)
    changed = _call("label_apply", {"conversation": conversation, "label": label}, firing)
    return {"status": "done", "detail": f"label {label.name}{'' if changed else ' (already there)'}"}


def _remove_label(action: Mapping[str, Any], conversation: Conversation, firing: Firing) -> dict[str, Any]:
    label = _label(action, conversation)
    changed = _call("label_remove", {"conversation": conversation, "label": label}, firing)
    return {"status": "done", "detail": f"label {label.name}{'' if changed else ' (was not there)'}"}


def _set_status(action: Mapping[str, Any], conversation: Conversation, firing: Firing) -> dict[str, Any]:
    _call("conversation_set_status", {"conversation": conversation, "status": action["status"]}, firing)
    return {"status": "done", "detail": f"status {action['status']}"}


def _set_priority(action: Mapping[str, Any], conversation: Conversation, firing: Firing) -> dict[str, Any]:
    _call("conversation_set_priority", {"conversation": conversation, "priority": action["priority"]}, firing)
    return {"status": "done", "detail": f"priority {action['priority']}"}


def _add_note(action: Mapping[str, Any], conversation: Conversation, firing: Firing) -> dict[str, Any]:
    text = render(action["text"], conversation)
    note = _call("note_add", {"conversation": conversation, "body": text, "text": text}, firing)
    return {"status": "done", "detail": text, "note_id": getattr(note, "pk", None)}


def _create_draft_order(action: Mapping[str, Any], conversation: Conversation, firing: Firing) -> dict[str, Any]:
    candidates = {"conversation": conversation, "source": "automation", "lines": []}
    if inbox_bridge.find_service("order_create_draft", *_COMMERCE) is not None:
        order = _call("order_create_draft", candidates, firing, *_COMMERCE)
    elif inbox_bridge.find_service("order_create", *_COMMERCE) is not None:
        order = _call("order_create", candidates, firing, *_COMMERCE)  # an empty draft the agent fills in
    else:
        raise Unavailable("orders are not available yet")
    return {"status": "done", "detail": f"draft order {getattr(order, 'number', '') or getattr(order, 'pk', '')}"}


_EXECUTORS = {
    "send_reply": _send_reply,
    "assign": _assign,
    "add_label": _add_label,
    "remove_label": _remove_label,
    "set_status": _set_status,
    "set_priority": _set_priority,
    "add_note": _add_note,
    "create_draft_order": _create_draft_order,
}


def execute(action: Mapping[str, Any], conversation: Conversation, firing: Firing) -> dict[str, Any]:
    """Run one action in its own savepoint and return its log entry; never raises."""
    entry: dict[str, Any] = {"type": action.get("type", "")}
    executor = _EXECUTORS.get(action.get("type", ""))
    if executor is None:
        return {**entry, "status": "failed", "detail": "unknown action"}
    try:
        with transaction.atomic():
            entry.update(executor(action, conversation, firing))
    except Unavailable as exc:
        entry.update(status="unavailable", detail=f"not available yet: {exc}")
    except ValidationError as exc:
        entry.update(status="failed", detail="; ".join(exc.messages))
    except PermissionDenied as exc:
        entry.update(status="failed", detail=f"the rule's author may not do this: {exc}")
    except Exception as exc:  # noqa: BLE001 - one broken action must not stop the others or the run log
        logger.exception("automation action failed", extra={"action": entry["type"], "rule_id": firing.rule_id})
        entry.update(status="failed", detail=f"error: {exc.__class__.__name__}")
    return entry
