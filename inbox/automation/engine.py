"""The rule engine, pure: a compiled rule set and the evaluation of one event against it.

Used the same way by the worker (real messages), the sandbox page (typed messages) and the back-test (past
messages), so what the admin tests is what runs. No database here: the caller passes the context and, at run
time, a callback that applies "once per conversation" and cooldowns from the run log.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from inbox.automation.conditions import MessageContext, failed_condition
from inbox.automation.matching import KeywordSpec, RuleMatcher

#: Which rule triggers an event can fire. ``message`` is a customer message arriving.
EVENT_TRIGGERS: dict[str, tuple[str, ...]] = {
    "message": ("greeting", "message", "keyword", "away"),
    "no_reply": ("no_reply",),
    "labelled": ("labelled",),
}


@dataclass(frozen=True)
class CompiledRule:
    """One rule at its current version, as the engine needs it (plain data, picklable, no model instances)."""

    rule_id: int
    version_id: int
    version: int
    name: str
    enabled: bool
    trigger: str
    keyword_mode: str = "word"
    keywords: tuple[str, ...] = ()
    negative_keywords: tuple[str, ...] = ()
    conditions: Mapping[str, Any] = field(default_factory=dict)
    actions: Sequence[Mapping[str, Any]] = ()
    trigger_options: Mapping[str, Any] = field(default_factory=dict)
    stop_after_match: bool = True
    once_per_conversation: bool = False
    cooldown_minutes: int = 0


@dataclass
class Decision:
    """What the engine decided about one rule: it fires (``reason`` empty) or why not."""

    rule: CompiledRule
    fires: bool
    matched: list[str] = field(default_factory=list)
    spans: list[tuple[int, int]] = field(default_factory=list)
    reason: str = ""


class RuleSet:
    """The rules of one organization in priority order, with one matcher for all their keywords."""

    def __init__(self, rules: Iterable[CompiledRule], *, stamp: Any = None) -> None:
        self.rules: list[CompiledRule] = list(rules)
        self.stamp = stamp
        self.matcher = RuleMatcher(
            KeywordSpec(i, r.keyword_mode, r.keywords, r.negative_keywords)
            for i, r in enumerate(self.rules)
            if r.keywords or r.negative_keywords
        )
        # Rules that need no keyword hit, per event: the only ones scanned besides the matcher's hits.
        self._keyless: dict[str, frozenset[int]] = {
            event: frozenset(
                i for i, r in enumerate(self.rules) if r.trigger in triggers and i not in self.matcher.keyed
            )
            for event, triggers in EVENT_TRIGGERS.items()
        }

    def __len__(self) -> int:
        return len(self.rules)

    @property
    def any_enabled(self) -> bool:
        return any(r.enabled for r in self.rules)

    def evaluate(
        self,
        *,
        event: str,
        text: str,
        ctx: MessageContext,
        include_disabled: bool = False,
        allowed: Callable[[CompiledRule], str | None] | None = None,
        explain: bool = False,
        find: bool = False,
        labels_added: Sequence[str] = (),
    ) -> list[Decision]:
        """The rules that fire for this event, in priority order, honouring "stop after match".

        ``allowed(rule)`` returns why a rule may not fire now (already fired in this conversation, cooling down),
        or None. ``explain`` also returns the rules that were considered and did not fire, with the reason.
        ``find`` computes the spans of the matched words in ``text`` (slower; for the sandbox).
        """
        triggers = EVENT_TRIGGERS[event]
        hits, negated = self.matcher.find(text) if find else self.matcher.match(text)
        rules = self.rules
        candidates = sorted(self._keyless[event].union([i for i in hits if rules[i].trigger in triggers]))
        if explain:
            candidates = sorted(set(candidates) | {i for i in negated if self.rules[i].trigger in triggers})
        decisions: list[Decision] = []
        stopped_by: CompiledRule | None = None
        for i in candidates:
            rule = self.rules[i]
            if not rule.enabled and not include_disabled:
                continue
            reason = self._why_not(rule, i, negated, ctx, labels_added) or ""
            if not reason and stopped_by is not None:
                reason = f"stopped: “{stopped_by.name}” fired first"
            if not reason and allowed is not None:
                reason = allowed(rule) or ""
            if reason and not explain:
                continue  # nobody sees this decision: build none
            hit = hits.get(i)
            matched = list(hit.keywords if find else hit) if hit else []
            spans = list(hit.spans) if find and hit else []
            decision = Decision(rule, not reason, matched, spans, reason)
            if decision.fires:
                decisions.append(decision)
                if rule.stop_after_match:
                    stopped_by = rule
                    if not explain:
                        break
            elif explain:
                decisions.append(decision)
        return decisions

    @staticmethod
    def _why_not(
        rule: CompiledRule, i: int, negated: set[int], ctx: MessageContext, labels_added: Sequence[str]
    ) -> str | None:
        if i in negated:
            return "a negative keyword occurs"
        if rule.trigger == "greeting" and not ctx.first_message:
            return "not the first message of the conversation"
        if rule.trigger == "away" and ctx.business_open:
            return "within business hours"
        if rule.trigger == "labelled":
            wanted = set(rule.trigger_options.get("labels") or [])
            if wanted and not wanted & set(labels_added):
                return "none of its labels was added"
        return failed_condition(rule.conditions, ctx)
