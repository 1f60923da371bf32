"""Writing rules: create, edit (a new immutable version), switch on/off, reorder, delete; business hours.

Every change bumps the organization's rule-set stamp in the same transaction, so every worker recompiles its
matcher within seconds (see :mod:`inbox.automation.ruleset_cache`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from inbox import permissions
from inbox.access.services.audit import audit_action  # issue 5: the organization audit log
from inbox.automation import ruleset_cache
from inbox.automation.actions import clean_actions
from inbox.automation.conditions import clean_business_hours, clean_conditions
from inbox.automation.matching import PatternError, validate_pattern
from inbox.automation.models import AutoReplyRule, BusinessHours, KeywordMode, RuleVersion, Trigger
from inbox.models import Organization
from signals.text import normalize

MAX_KEYWORDS_PER_RULE = 500
CONTENT_FIELDS = (
    "trigger",
    "keyword_mode",
    "keywords",
    "negative_keywords",
    "conditions",
    "actions",
    "trigger_options",
)


def _check_manager(user: Any, organization_id: int) -> None:
    if not permissions.can_manage_channels(user, organization_id):
        raise PermissionDenied("Only owners and admins can manage auto-replies.")


def _clean_words(words: Sequence[str], what: str) -> list[str]:
    out = list(dict.fromkeys(w.strip() for w in words if w and w.strip()))
    if len(out) > MAX_KEYWORDS_PER_RULE:
        raise ValidationError(
            gettext("At most %(max_keywords_per_rule)s %(what)s per rule.")
            % {"max_keywords_per_rule": MAX_KEYWORDS_PER_RULE, "what": what}
        )
    for word in out:
        if not normalize(word):
            raise ValidationError(
                gettext("The %(value)s “%(word)s” is empty once spaces and invisible characters go.")
                % {"value": what[:-1], "word": word}
            )
    return out


def clean_version(
    *,
    trigger: str,
    keyword_mode: str = KeywordMode.WORD,
    keywords: Sequence[str] = (),
    negative_keywords: Sequence[str] = (),
    conditions: Mapping[str, Any] | None = None,
    actions: Sequence[Mapping[str, Any]] = (),
    trigger_options: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Validate what a version holds; ``ValidationError`` with a sentence the admin can act on."""
    if trigger not in Trigger.values:
        raise ValidationError(gettext("Unknown trigger “%(trigger)s”.") % {"trigger": trigger})
    if keyword_mode not in KeywordMode.values:
        raise ValidationError(gettext("Unknown keyword mode “%(keyword_mode)s”.") % {"keyword_mode": keyword_mode})
    keywords = _clean_words(keywords, "keywords")
    negative = _clean_words(negative_keywords, "negative keywords")
    if trigger == Trigger.KEYWORD and not keywords:
        raise ValidationError(gettext("A keyword rule needs at least one keyword."))
    if keyword_mode == KeywordMode.REGEX:
        for pattern in keywords:
            try:
                validate_pattern(pattern)
            except PatternError as exc:
                raise ValidationError(
                    gettext("Pattern “%(pattern)s”: %(exc)s") % {"pattern": pattern, "exc": exc}
                ) from None
    try:
        cleaned_conditions = clean_conditions(conditions or {})
        cleaned_actions = clean_actions(list(actions))
    except (ValueError, TypeError) as exc:
        raise ValidationError(str(exc)) from None
    if not cleaned_actions:
        raise ValidationError(gettext("A rule needs at least one action."))
    options: dict[str, Any] = {}
    raw_options = dict(trigger_options or {})
    if trigger == Trigger.NO_REPLY:
        try:
            minutes = int(raw_options.get("minutes") or 0)
        except (TypeError, ValueError):
            minutes = 0
        if not 1 <= minutes <= 7 * 24 * 60:
            raise ValidationError(gettext("Say after how many minutes without an agent reply (1 to 10080)."))
        options["minutes"] = minutes
    elif trigger == Trigger.LABELLED:
        options["labels"] = sorted({str(v).strip() for v in raw_options.get("labels") or [] if str(v).strip()})
    return {
        "trigger": trigger,
        "keyword_mode": keyword_mode,
        "keywords": keywords,
        "negative_keywords": negative,
        "conditions": cleaned_conditions,
        "actions": cleaned_actions,
        "trigger_options": options,
    }


def _controls(stop_after_match: bool, once_per_conversation: bool, cooldown_minutes: int) -> dict[str, Any]:
    if cooldown_minutes < 0 or cooldown_minutes > 365 * 24 * 60:
        raise ValidationError(gettext("The cooldown is between 0 minutes and a year."))
    return {
        "stop_after_match": bool(stop_after_match),
        "once_per_conversation": bool(once_per_conversation),
        "cooldown_minutes": int(cooldown_minutes),
    }


def _cleaned(
    name: str, content: dict[str, Any], stop_after_match: bool, once_per_conversation: bool, cooldown_minutes: int
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """A rule form's name, version fields and controls, checked (:class:`ValidationError` says what to fix)."""
    name = (name or "").strip()
    if not name:
        raise ValidationError(gettext("Give the rule a name."))
    return name, clean_version(**content), _controls(stop_after_match, once_per_conversation, cooldown_minutes)


def rule_create(
    *,
    user: Any,
    organization: Organization,
    name: str,
    enabled: bool = False,
    stop_after_match: bool = True,
    once_per_conversation: bool = False,
    cooldown_minutes: int = 0,
    **content: Any,
) -> AutoReplyRule:
    """Create a rule with its first version, at the end of the order. New rules start switched off by default."""
    _check_manager(user, organization.pk)
    name, version_fields, controls = _cleaned(name, content, stop_after_match, once_per_conversation, cooldown_minutes)
    with transaction.atomic():
        last = AutoReplyRule.objects.filter(organization=organization).order_by("-position").first()
        rule = AutoReplyRule.objects.create(
            organization=organization,
            name=name[:120],
            enabled=enabled,
            position=(last.position + 1) if last else 0,
            **controls,
        )
        version = RuleVersion.objects.create(rule=rule, number=1, created_by=user, **version_fields)
        rule.current_version = version
        rule.save(update_fields=["current_version"])
        ruleset_cache.bump(organization.pk)
        audit_action(actor=user, action="auto_reply.created", target=rule, details={"enabled": enabled})
    return rule


def rule_update(
    *,
    user: Any,
    rule: AutoReplyRule,
    name: str,
    stop_after_match: bool = True,
    once_per_conversation: bool = False,
    cooldown_minutes: int = 0,
    **content: Any,
) -> AutoReplyRule:
    """Edit a rule. A change to what it matches or does creates a new version; earlier runs keep theirs."""
    _check_manager(user, rule.organization_id)
    name, version_fields, controls = _cleaned(name, content, stop_after_match, once_per_conversation, cooldown_minutes)
    with transaction.atomic():
        rule = AutoReplyRule.objects.select_for_update(of=("self",)).select_related("current_version").get(pk=rule.pk)
        current = rule.current_version
        if current is None or any(getattr(current, f) != version_fields[f] for f in CONTENT_FIELDS):
            number = (current.number + 1) if current else 1
            rule.current_version = RuleVersion.objects.create(
                rule=rule, number=number, created_by=user, **version_fields
            )
        rule.name = name[:120]
        for key, value in controls.items():
            setattr(rule, key, value)
        rule.updated_at = timezone.now()
        rule.save()
        ruleset_cache.bump(rule.organization_id)
        audit_action(actor=user, action="auto_reply.updated", target=rule)
    return rule


def rule_set_enabled(*, user: Any, rule: AutoReplyRule, enabled: bool) -> AutoReplyRule:
    """Switch a rule on or off; takes effect on every worker within seconds."""
    _check_manager(user, rule.organization_id)
    with transaction.atomic():
        AutoReplyRule.objects.filter(pk=rule.pk).update(enabled=enabled, updated_at=timezone.now())
        rule.enabled = enabled
        ruleset_cache.bump(rule.organization_id)
        audit_action(actor=user, action="auto_reply.enabled" if enabled else "auto_reply.disabled", target=rule)
    return rule


def rules_reorder(*, user: Any, organization: Organization, rule_ids: Sequence[int]) -> None:
    """Put the rules in this order (first = highest priority). The ids must be exactly the organization's rules."""
    _check_manager(user, organization.pk)
    ids = [int(i) for i in rule_ids]
    with transaction.atomic():
        existing = set(
            AutoReplyRule.objects.select_for_update().filter(organization=organization).values_list("id", flat=True)
        )
        if len(ids) != len(set(ids)) or set(ids) != existing:
            raise ValidationError(
                gettext("The order must list every rule of the organization exactly once; reload the page.")
            )
        for position, rule_id in enumerate(ids):
            AutoReplyRule.objects.filter(pk=rule_id).update(position=position)
        ruleset_cache.bump(organization.pk)
        audit_action(actor=user, action="auto_reply.reordered", target=organization, details={"order": ids})


def rule_delete(*, user: Any, rule: AutoReplyRule) -> None:
    """Delete a rule with its versions and run log."""
    _check_manager(user, rule.organization_id)
    with transaction.atomic():
        organization_id = rule.organization_id
        audit_action(actor=user, action="auto_reply.deleted", target=rule)
        rule.delete()
        ruleset_cache.bump(organization_id)


def business_hours_set(
    *, user: Any, organization: Organization, weekly: Mapping[str, Any], holidays: Sequence[str]
) -> BusinessHours:
    """Store weekly opening hours (organization time zone) and holidays."""
    _check_manager(user, organization.pk)
    try:
        cleaned_weekly, cleaned_holidays = clean_business_hours(weekly, list(holidays))
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    with transaction.atomic():
        hours, _ = BusinessHours.objects.update_or_create(
            organization=organization,
            defaults={"weekly": cleaned_weekly, "holidays": cleaned_holidays, "updated_at": timezone.now()},
        )
        ruleset_cache.bump(organization.pk)
    return hours
