"""Celery entry points of automation: ids in, services called. Queue ``default``."""

from __future__ import annotations

from celery import shared_task

from inbox.automation.services import runs


@shared_task(name="automation.evaluate_message")
def evaluate_message(message_id: int) -> int:
    """Run the rules on one customer message; idempotent per (rule version, message)."""
    return len(runs.message_evaluate(message_id=message_id))


@shared_task(name="automation.evaluate_labelled")
def evaluate_labelled(conversation_id: int) -> int:
    """Run "conversation labelled" rules for labels just added; idempotent per (rule version, label link)."""
    return len(runs.conversation_evaluate_labelled(conversation_id=conversation_id))


@shared_task(name="automation.sweep_unanswered")
def sweep_unanswered() -> int:
    """Beat: fire "no agent reply within N minutes" rules."""
    return runs.conversations_evaluate_unanswered()
