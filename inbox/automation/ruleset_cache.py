"""The compiled rule set of each organization: built once per process, rebuilt when its rules change.

Every rule change bumps :class:`RuleSetState.version` in its transaction and, after commit, writes the new stamp to
the Django cache (Redis in production). Each message checks the stamp (one cache read); a worker whose copy is
older rebuilds. Without a shared cache (the embedded default's per-process memory cache) the stamp is cached for
:data:`STAMP_TTL_SECONDS` only, so other processes read the database again within seconds.
"""

from __future__ import annotations

import threading

from django.core.cache import cache
from django.db import transaction
from django.db.models import F

from inbox.automation.engine import CompiledRule, RuleSet
from inbox.automation.models import AutoReplyRule, RuleSetState

STAMP_TTL_SECONDS = 5
_local: dict[int, RuleSet] = {}
_lock = threading.Lock()


def _stamp_key(organization_id: int) -> str:
    return f"automation:ruleset-stamp:{organization_id}"


def bump(organization_id: int) -> None:
    """Mark the organization's rules changed. Call inside the transaction that changes them."""
    updated = RuleSetState.objects.filter(organization_id=organization_id).update(version=F("version") + 1)
    if not updated:
        RuleSetState.objects.get_or_create(organization_id=organization_id, defaults={"version": 1})

    # Forget the old stamp now (this transaction reads its own change) and publish the new one on commit.
    cache.delete(_stamp_key(organization_id))

    def publish() -> None:
        version = RuleSetState.objects.filter(organization_id=organization_id).values_list("version", flat=True)
        cache.set(_stamp_key(organization_id), version.first() or 0, STAMP_TTL_SECONDS)

    transaction.on_commit(publish)


def current_stamp(organization_id: int) -> int:
    stamp = cache.get(_stamp_key(organization_id))
    if stamp is None:
        stamp = (
            RuleSetState.objects.filter(organization_id=organization_id).values_list("version", flat=True).first() or 0
        )
        cache.set(_stamp_key(organization_id), stamp, STAMP_TTL_SECONDS)
    return stamp


def compile_rules(organization_id: int, *, stamp: int | None = None) -> RuleSet:
    """Build the rule set from the database (every rule with a version, enabled or not, in priority order)."""
    rules = (
        AutoReplyRule.objects.filter(organization_id=organization_id, current_version__isnull=False)
        .select_related("current_version")
        .order_by("position", "id")
    )
    compiled = []
    for rule in rules:
        v = rule.current_version
        compiled.append(
            CompiledRule(
                rule_id=rule.pk,
                version_id=v.pk,
                version=v.number,
                name=rule.name,
                enabled=rule.enabled,
                trigger=v.trigger,
                keyword_mode=v.keyword_mode,
                keywords=tuple(v.keywords),
                negative_keywords=tuple(v.negative_keywords),
                conditions=dict(v.conditions),
                actions=tuple(v.actions),
                trigger_options=dict(v.trigger_options),
                stop_after_match=rule.stop_after_match,
                once_per_conversation=rule.once_per_conversation,
                cooldown_minutes=rule.cooldown_minutes,
            )
        )
    return RuleSet(compiled, stamp=stamp)


def ruleset_for(organization_id: int) -> RuleSet:
    """The organization's compiled rule set, rebuilt only when its stamp moved."""
    stamp = current_stamp(organization_id)
    ruleset = _local.get(organization_id)
    if ruleset is not None and ruleset.stamp == stamp:
        return ruleset
    with _lock:
        ruleset = _local.get(organization_id)
        if ruleset is None or ruleset.stamp != stamp:
            ruleset = compile_rules(organization_id, stamp=stamp)
            _local[organization_id] = ruleset
    return ruleset


def forget() -> None:
    """Drop every compiled rule set of this process (tests)."""
    _local.clear()
