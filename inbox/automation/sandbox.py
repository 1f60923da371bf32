"""Trying rules before they go live: the test sandbox (one typed message) and the back-test (past messages).

Both are reads: nothing is sent, stored or logged. They run the very engine the worker runs, on the rules as
saved (switched-off rules included, marked as such, because that is what an admin tests before switching on).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from inbox.automation import ruleset_cache, selectors
from inbox.automation.actions import describe
from inbox.automation.conditions import MessageContext
from inbox.automation.engine import Decision, RuleSet
from inbox.automation.matching import highlight
from inbox.models import Channel, Organization


@dataclass
class SandboxResult:
    text: str
    parts: list[tuple[str, bool]]  # the message with matched words marked
    firing: list[Decision]
    not_firing: list[Decision]

    @property
    def firing_rows(self) -> list[tuple[Decision, list[str]]]:
        """Each firing rule with its actions in words, variables left as typed."""
        return [(d, [describe(a) for a in d.rule.actions]) for d in self.firing]


def sandbox_test(
    *,
    organization: Organization,
    text: str,
    channel: Channel | None,
    at: datetime,
    first_message: bool = False,
    returning_contact: bool = False,
    assigned: bool = False,
    has_tracking_id: bool = False,
    ruleset: RuleSet | None = None,
) -> SandboxResult:
    """Which rules would fire for ``text`` on ``channel`` at ``at``, in order, what they would do, what matched."""
    ruleset = ruleset or ruleset_cache.compile_rules(organization.pk)
    ctx = selectors.sandbox_context(
        organization=organization,
        channel=channel,
        at=at,
        first_message=first_message,
        returning_contact=returning_contact,
        assigned=assigned,
        has_tracking_id=has_tracking_id,
    )
    decisions = ruleset.evaluate(event="message", text=text, ctx=ctx, include_disabled=True, explain=True, find=True)
    firing = [d for d in decisions if d.fires]
    spans = [span for d in firing for span in d.spans]
    return SandboxResult(
        text=text,
        parts=highlight(text, spans),
        firing=firing,
        not_firing=[d for d in decisions if not d.fires],
    )


@dataclass
class BacktestRow:
    rule_id: int
    name: str
    enabled: bool
    fired: int = 0
    examples: list[str] = field(default_factory=list)


@dataclass
class BacktestResult:
    days: int
    messages: int
    rows: list[BacktestRow]
    messages_with_a_reply: int


def backtest(*, organization: Organization, days: int, limit: int = 5_000, examples: int = 3) -> BacktestResult:
    """Run the saved rules (switched-off ones included) over the last ``days`` days of customer messages.

    Conditions are read from each conversation as it is now (status, assignment, labels); "once per
    conversation" is applied within the back-test, cooldowns are not (the counts are an upper bound).
    """
    ruleset = ruleset_cache.compile_rules(organization.pk)
    rows = {r.rule_id: BacktestRow(r.rule_id, r.name, r.enabled) for r in ruleset.rules}
    fired_in: Counter[tuple[int, int]] = Counter()
    hours = selectors.business_hours_of(organization.pk)
    count = 0
    answered = 0
    messages = list(selectors.inbound_messages_since(organization=organization, days=days, limit=limit))
    seen_conversations: set[int] = set()
    for message in reversed(messages):  # oldest first, as they happened
        count += 1
        conversation = message.conversation
        ctx = MessageContext(
            channel_id=conversation.channel_id,
            channel_kind=conversation.channel.kind,
            local_time=selectors.local_time(organization, message.created_at),
            business_open=selectors.business_open(organization, message.created_at, hours=hours),
            status=conversation.status,
            assigned=conversation.assignee_id is not None,
            returning_contact=False,
            has_tracking_id=bool(conversation.tracking_id),
            first_message=conversation.pk not in seen_conversations,
        )
        seen_conversations.add(conversation.pk)

        def allowed(rule, conversation_id=conversation.pk):  # type: ignore[no-untyped-def]
            if rule.once_per_conversation and fired_in[(rule.rule_id, conversation_id)]:
                return "already fired in this conversation"
            return None

        decisions = ruleset.evaluate(
            event="message", text=message.body, ctx=ctx, include_disabled=True, allowed=allowed
        )
        if decisions:
            answered += 1
        for decision in decisions:
            row = rows[decision.rule.rule_id]
            row.fired += 1
            fired_in[(decision.rule.rule_id, conversation.pk)] += 1
            if len(row.examples) < examples:
                row.examples.append(message.body[:200])
    return BacktestResult(days=days, messages=count, rows=list(rows.values()), messages_with_a_reply=answered)
