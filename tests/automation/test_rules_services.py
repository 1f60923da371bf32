"""Writing rules: validation, versions that never rewrite history, order, switches, permissions."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from inbox.automation import ruleset_cache
from inbox.automation.models import AutoReplyRule, RuleVersion
from inbox.automation.services.rules import business_hours_set, rule_set_enabled, rule_update, rules_reorder
from inbox.models import Role
from tests.automation.factories import make_rule, make_shop
from tests.factories import MembershipFactory

pytestmark = [pytest.mark.core, pytest.mark.django_db]


def test_editing_creates_a_new_version_and_keeps_the_old_one():
    shop = make_shop()
    rule = make_rule(shop, keywords=["price"])
    first = rule.current_version
    rule = rule_update(
        user=shop.admin,
        rule=rule,
        name="Price",
        trigger="keyword",
        keywords=["price", "cost"],
        actions=[{"type": "send_reply", "text": "New prices"}],
    )
    assert rule.current_version.number == 2
    first.refresh_from_db()
    assert first.keywords == ["price"] and first.actions[0]["text"] == "Our prices: example.com"
    # Renaming or changing controls alone does not make a version.
    rule = rule_update(
        user=shop.admin,
        rule=rule,
        name="Prices",
        trigger="keyword",
        keywords=["price", "cost"],
        actions=[{"type": "send_reply", "text": "New prices"}],
        cooldown_minutes=30,
    )
    assert rule.current_version.number == 2 and rule.cooldown_minutes == 30
    assert RuleVersion.objects.filter(rule=rule).count() == 2


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"trigger": "keyword", "keywords": []}, "at least one keyword"),
        ({"keyword_mode": "regex", "keywords": ["(a+)+$"]}, "too long"),
        ({"keyword_mode": "regex", "keywords": ["("]}, "Not a valid"),
        ({"actions": []}, "at least one action"),
        ({"actions": [{"type": "send_reply", "text": "Hi {{contact.age}}"}]}, "unknown variable"),
        ({"actions": [{"type": "launch_rocket"}]}, "unknown action"),
        ({"trigger": "no_reply", "trigger_options": {}}, "how many minutes"),
        ({"conditions": {"days": [9]}}, "Monday"),
        ({"keywords": ["\u200b "]}, "empty"),
    ],
)
def test_invalid_rules_are_refused_with_a_reason(fields, message):
    shop = make_shop()
    with pytest.raises(ValidationError, match=message):
        make_rule(shop, **fields)
    assert not AutoReplyRule.objects.exists()


def test_only_owners_and_admins_manage_rules():
    shop = make_shop()
    agent = MembershipFactory(organization=shop.organization, role=Role.AGENT).user
    rule = make_rule(shop)
    with pytest.raises(PermissionDenied):
        rule_set_enabled(user=agent, rule=rule, enabled=False)
    with pytest.raises(PermissionDenied):
        business_hours_set(user=agent, organization=shop.organization, weekly={}, holidays=[])


def test_reorder_needs_every_rule_exactly_once():
    shop = make_shop()
    a, b, c = (make_rule(shop, name=n) for n in "abc")
    rules_reorder(user=shop.admin, organization=shop.organization, rule_ids=[c.pk, a.pk, b.pk])
    assert list(AutoReplyRule.objects.order_by("position").values_list("name", flat=True)) == ["c", "a", "b"]
    with pytest.raises(ValidationError):
        rules_reorder(user=shop.admin, organization=shop.organization, rule_ids=[c.pk, a.pk])
    other = make_rule(make_shop(), name="other shop")
    with pytest.raises(ValidationError):
        rules_reorder(user=shop.admin, organization=shop.organization, rule_ids=[c.pk, a.pk, other.pk])


@pytest.mark.django_db(transaction=True)
def test_a_change_is_seen_by_the_compiled_matcher_at_once():
    shop = make_shop()
    rule = make_rule(shop, keywords=["price"])
    before = ruleset_cache.ruleset_for(shop.organization.pk)
    assert before.matcher.match("price")[0]
    assert ruleset_cache.ruleset_for(shop.organization.pk) is before  # cached, not rebuilt
    rule_update(
        user=shop.admin,
        rule=rule,
        name="x",
        trigger="keyword",
        keywords=["cost"],
        actions=[{"type": "send_reply", "text": "hi"}],
    )
    after = ruleset_cache.ruleset_for(shop.organization.pk)
    assert after is not before
    assert not after.matcher.match("price")[0] and after.matcher.match("cost")[0]


def test_business_hours_are_validated():
    shop = make_shop()
    with pytest.raises(ValidationError, match="time of day"):
        business_hours_set(user=shop.admin, organization=shop.organization, weekly={"0": [["9", "17:00"]]}, holidays=[])
    with pytest.raises(ValidationError, match="date"):
        business_hours_set(user=shop.admin, organization=shop.organization, weekly={}, holidays=["Christmas"])
    hours = business_hours_set(
        user=shop.admin, organization=shop.organization, weekly={"0": [["9:00", "17:00"]]}, holidays=["2026-12-25"]
    )
    assert hours.weekly["0"] == [["09:00", "17:00"]] and hours.holidays == ["2026-12-25"]
