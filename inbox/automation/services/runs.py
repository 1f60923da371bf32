"""Running rules on real events: a customer message, a conversation left unanswered, a label added.

Called from Celery tasks after the message committed, so receiving stays fast. Each firing is recorded as a
:class:`RuleRun` before its actions run, in the same transaction, under a unique ``(version, dedupe_key)``: a task
that runs twice for the same message fires each rule version at most once, and an auto-reply is queued exactly
once. The conversation row is locked for the evaluation, so two messages of one conversation arriving together
cannot both pass a cooldown.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from inbox.automation import actions as action_executors
from inbox.automation import ruleset_cache, selectors
from inbox.automation.engine import CompiledRule, Decision
from inbox.automation.models import AutoReplyRule, RuleRun, RuleVersion
from inbox.models import Conversation, Message

logger = logging.getLogger(__name__)

#: A label added longer ago than this is not news any more for "conversation labelled" rules.
LABEL_LOOKBACK = timedelta(minutes=10)


def _history_check(conversation: Conversation, dedupe_key: str, at: datetime):  # type: ignore[no-untyped-def]
    def allowed(rule: CompiledRule) -> str | None:
        if RuleRun.objects.filter(version_id=rule.version_id, dedupe_key=dedupe_key).exists():
            return None  # fired already for this very event: it counts as firing (and stops lower rules)
        if not (rule.once_per_conversation or rule.cooldown_minutes):
            return None
        last = (
            RuleRun.objects.filter(rule_id=rule.rule_id, conversation=conversation)
            .order_by("-created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        if last is None:
            return None
        if rule.once_per_conversation:
            return "already fired in this conversation"
        until = last + timedelta(minutes=rule.cooldown_minutes)
        if at < until:
            return f"cooling down until {until:%H:%M} UTC"
        return None

    return allowed


def _fire(
    decision: Decision, *, conversation: Conversation, message: Message | None, dedupe_key: str, at: datetime
) -> RuleRun | None:
    rule = decision.rule
    if not AutoReplyRule.objects.filter(pk=rule.rule_id, enabled=True, current_version_id=rule.version_id).exists():
        return None  # switched off or edited since this process compiled it: the next message sees the new set
    try:
        with transaction.atomic():
            run = RuleRun.objects.create(
                rule_id=rule.rule_id,
                version_id=rule.version_id,
                conversation=conversation,
                message=message,
                trigger=rule.trigger,
                dedupe_key=dedupe_key,
                matched=decision.matched,
                created_at=at,
            )
    except IntegrityError:
        return None  # this version already fired for this event
    author = RuleVersion.objects.select_related("created_by").get(pk=rule.version_id).created_by
    firing = action_executors.Firing(rule.rule_id, rule.name, rule.version, decision.matched, at, actor=author)
    run.actions = [action_executors.execute(action, conversation, firing) for action in rule.actions]
    run.save(update_fields=["actions"])
    logger.info(
        "auto-reply rule fired",
        extra={"rule_id": rule.rule_id, "version": rule.version, "conversation_id": conversation.pk},
    )
    return run


def _evaluate(
    *,
    event: str,
    conversation_id: int,
    message: Message | None,
    dedupe_key: str,
    at: datetime,
    labels_added: tuple[str, ...] = (),
    rule_filter: Any = None,
) -> list[RuleRun]:
    organization_id = Conversation.objects.values_list("organization_id", flat=True).get(pk=conversation_id)
    ruleset = ruleset_cache.ruleset_for(organization_id)
    if not ruleset.any_enabled:
        return []
    with transaction.atomic():
        conversation = (
            Conversation.objects.select_for_update(of=("self",))
            .select_related("channel", "contact", "identity", "organization", "assignee")
            .get(pk=conversation_id)
        )
        ctx = selectors.message_context(conversation=conversation, message=message, at=at)
        decisions = ruleset.evaluate(
            event=event,
            text=message.body if message is not None else "",
            ctx=ctx,
            allowed=_history_check(conversation, dedupe_key, at),
            labels_added=labels_added,
        )
        runs = []
        for decision in decisions:
            if rule_filter is not None and not rule_filter(decision.rule):
                continue
            run = _fire(decision, conversation=conversation, message=message, dedupe_key=dedupe_key, at=at)
            if run is not None:
                runs.append(run)
    return runs


def message_evaluate(*, message_id: int, at: datetime | None = None) -> list[RuleRun]:
    """Run the organization's rules on one customer message; returns the runs it created (empty on a repeat).

    Never fires on our own, automated or echoed messages: only inbound messages from the contact are evaluated.
    """
    message = Message.objects.filter(pk=message_id).first()
    if (
        message is None
        or message.direction != Message.Direction.INBOUND
        or message.sender_type != Message.SenderType.CONTACT
    ):
        return []
    return _evaluate(
        event="message",
        conversation_id=message.conversation_id,
        message=message,
        dedupe_key=f"m:{message.pk}",
        at=at or message.created_at,
    )


def conversations_evaluate_unanswered(*, at: datetime | None = None, horizon_hours: int = 24) -> int:
    """The "no agent reply within N minutes" sweep (beat task): fire for every open conversation whose latest
    customer message has waited at least N minutes with nothing sent since. Returns the number of runs.

    Only messages of the last ``horizon_hours`` are considered, and each waiting message fires a rule once.
    """
    at = at or timezone.now()
    rules = (
        AutoReplyRule.objects.filter(enabled=True, current_version__trigger="no_reply")
        .select_related("current_version")
        .order_by("organization_id")
    )
    fired = 0
    for rule in rules:
        minutes = int(rule.current_version.trigger_options.get("minutes") or 0)
        if minutes <= 0:
            continue
        waiting = Conversation.objects.filter(
            organization_id=rule.organization_id,
            status__in=[Conversation.Status.OPEN, Conversation.Status.PENDING],
            outbound_since_inbound=0,
            last_inbound_at__lte=at - timedelta(minutes=minutes),
            last_inbound_at__gte=at - timedelta(hours=horizon_hours),
        ).values_list("id", flat=True)[:1000]
        for conversation_id in waiting:
            last = (
                Message.objects.filter(
                    conversation_id=conversation_id,
                    direction=Message.Direction.INBOUND,
                    sender_type=Message.SenderType.CONTACT,
                )
                .order_by("-id")
                .first()
            )
            if last is None:
                continue
            fired += len(
                _evaluate(
                    event="no_reply",
                    conversation_id=conversation_id,
                    message=last,
                    dedupe_key=f"n:{last.pk}",
                    at=at,
                    rule_filter=lambda r, rule_id=rule.pk: r.rule_id == rule_id,
                )
            )
    return fired


def conversation_evaluate_labelled(*, conversation_id: int, at: datetime | None = None) -> list[RuleRun]:
    """Run "conversation labelled" rules for the labels added to the conversation in the last
    :data:`LABEL_LOOKBACK`. Each label link fires a rule version once (``dedupe_key`` ``l:<link id>``), so the
    task may run for every ``conversation.updated`` without repeating itself."""
    from inbox.automation.inbox_bridge import recent_label_links

    at = at or timezone.now()
    last = (
        Message.objects.filter(conversation_id=conversation_id, direction=Message.Direction.INBOUND)
        .order_by("-id")
        .first()
    )
    runs: list[RuleRun] = []
    for link_id, name in recent_label_links(conversation_id, since=at - LABEL_LOOKBACK):
        runs += _evaluate(
            event="labelled",
            conversation_id=conversation_id,
            message=last,
            dedupe_key=f"l:{link_id}",
            at=at,
            labels_added=(name,),
        )
    return runs
