"""Subscriptions of automation to inbox domain events (connected in ``AutomationConfig.ready()``).

AFTER_COMMIT: evaluation happens in a Celery task once the message is durable, so receiving stays fast and a
rolled-back message never triggers a reply. ``message.received`` is published only for customer messages; the
task checks direction and sender again anyway.
"""

from __future__ import annotations

import logging

from inbox import events

logger = logging.getLogger(__name__)


def on_message_received(event: events.DomainEvent) -> None:
    message = event.payload.get("message") or {}
    if message.get("direction") != "inbound" or message.get("sender_type") != "contact":
        return
    from inbox.automation import ruleset_cache
    from inbox.automation.tasks import evaluate_message

    # Organizations without any rule switched on cost one cache read, not a task.
    if not ruleset_cache.ruleset_for(event.organization_id).any_enabled:
        return
    evaluate_message.delay(message["id"])


def on_conversation_updated(event: events.DomainEvent) -> None:
    """Labels may have been added: let the task look (it reads the label links, so no payload format is assumed)."""
    conversation_id = (event.payload.get("conversation") or {}).get("id")
    if not conversation_id:
        return
    from inbox.automation import ruleset_cache
    from inbox.automation.tasks import evaluate_labelled

    ruleset = ruleset_cache.ruleset_for(event.organization_id)
    if any(rule.enabled and rule.trigger == "labelled" for rule in ruleset.rules):
        evaluate_labelled.delay(conversation_id)


def connect() -> None:
    events.subscribe("message.received", on_message_received, phase=events.AFTER_COMMIT)
    events.subscribe("conversation.updated", on_conversation_updated, phase=events.AFTER_COMMIT)
