"""Admin pages: list, editor, switches, reorder, sandbox, back-test, business hours; only for owners/admins."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from inbox.automation.models import AutoReplyRule
from inbox.models import Role
from tests.automation.factories import make_rule, make_shop
from tests.factories import MembershipFactory, MessageFactory, make_conversation

pytestmark = [pytest.mark.core, pytest.mark.django_db]


@pytest.fixture
def shop():
    return make_shop(time_zone="Asia/Bangkok")


@pytest.fixture
def admin_client(client, shop):
    client.force_login(shop.admin)
    return client


def test_agents_get_a_clear_403(client, shop):
    agent = MembershipFactory(organization=shop.organization, role=Role.AGENT).user
    client.force_login(agent)
    for name in ("automation:rules", "automation:sandbox", "automation:rule_new", "automation:business_hours"):
        response = client.get(reverse(name))
        assert response.status_code == 403 and "owners and admins" in response.content.decode()


def test_empty_list_says_what_to_do_next(admin_client):
    page = admin_client.get(reverse("automation:rules")).content.decode()
    assert "No auto-reply rules yet" in page and "Create your first rule" in page


def test_create_a_rule_from_the_editor(admin_client, shop):
    response = admin_client.post(
        reverse("automation:rule_new"),
        {
            "name": "Delivery",
            "trigger": "keyword",
            "keyword_mode": "word",
            "keywords": "delivery\nshipping",
            "reply_text": "We ship in 2 days, {{contact.name}}",
            "stop_after_match": "on",
            "cooldown_minutes": "60",
            "channel_kinds": ["whatsapp"],
            "days": ["0", "1"],
        },
    )
    assert response.status_code == 302
    rule = AutoReplyRule.objects.get()
    v = rule.current_version
    assert (rule.name, rule.enabled, rule.cooldown_minutes) == ("Delivery", False, 60)
    assert v.keywords == ["delivery", "shipping"] and v.conditions == {"channel_kinds": ["whatsapp"], "days": [0, 1]}
    page = admin_client.get(reverse("automation:rules")).content.decode()
    assert "Delivery" in page and 'aria-checked="false"' in page
    # The editor shows what was saved.
    page = admin_client.get(reverse("automation:rule_edit", args=[rule.pk])).content.decode()
    assert "shipping" in page and "We ship in 2 days" in page


def test_editor_shows_validation_errors(admin_client):
    response = admin_client.post(
        reverse("automation:rule_new"),
        {"name": "Bad", "trigger": "keyword", "keyword_mode": "regex", "keywords": "(a+)+$", "reply_text": "x"},
    )
    assert response.status_code == 400 and "too long" in response.content.decode()
    assert not AutoReplyRule.objects.exists()


def test_switch_and_reorder(admin_client, shop):
    a, b = make_rule(shop, "A", enabled=False), make_rule(shop, "B")
    response = admin_client.post(
        reverse("automation:rule_toggle", args=[a.pk]), {"enabled": "1"}, HTTP_ACCEPT="application/json"
    )
    assert response.json() == {"id": a.pk, "enabled": True}
    a.refresh_from_db()
    assert a.enabled
    url = reverse("automation:rules_reorder")
    assert (
        admin_client.post(url, json.dumps({"order": [b.pk, a.pk]}), content_type="application/json").status_code == 200
    )
    assert list(AutoReplyRule.objects.order_by("position").values_list("name", flat=True)) == ["B", "A"]
    assert admin_client.post(url, "not json", content_type="application/json").status_code == 400
    bad = admin_client.post(url, json.dumps({"order": [a.pk]}), content_type="application/json")
    assert bad.status_code == 400 and "every rule" in bad.json()["error"]
    admin_client.post(reverse("automation:rule_move", args=[a.pk]), {"direction": "up"})
    assert list(AutoReplyRule.objects.order_by("position").values_list("name", flat=True)) == ["A", "B"]


def test_rules_of_another_organization_are_not_found(admin_client):
    other = make_rule(make_shop(), "Theirs")
    assert admin_client.get(reverse("automation:rule_edit", args=[other.pk])).status_code == 404
    assert admin_client.post(reverse("automation:rule_toggle", args=[other.pk]), {"enabled": "0"}).status_code == 404


def test_sandbox_shows_firing_rules_in_order_with_matches_highlighted(admin_client, shop):
    make_rule(shop, "Price", keywords=["price"], reply="Prices here", stop_after_match=False, enabled=False)
    make_rule(shop, "Night", trigger="message", reply="We sleep", conditions={"time_from": "22:00", "time_to": "06:00"})
    make_rule(shop, "Refund", keywords=["refund"], reply="Refunds")
    response = admin_client.post(
        reverse("automation:sandbox"),
        {"action": "test", "text": "What's the PRICE?", "channel": str(shop.channel.pk), "at": "2026-03-02T23:15"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "<mark>PRICE</mark>" in page
    assert page.index("Price</strong>") < page.index("Night</strong>")
    assert "switched off: would fire once switched on" in page
    assert "Send a reply: Prices here" in page
    assert "Refund</strong>" not in page
    # At noon (organization time) the night rule does not fire, and the page says why.
    page = admin_client.post(
        reverse("automation:sandbox"), {"action": "test", "text": "hello", "at": "2026-03-02T12:00"}
    ).content.decode()
    assert "Night</strong>" not in page and "it is 12:00" in page


def test_backtest_counts_past_messages_with_examples(admin_client, shop):
    make_rule(shop, "Price", keywords=["price"])
    conversation = make_conversation(shop.channel)
    for text in ("price?", "hello", "the price please"):
        MessageFactory(conversation=conversation, body=text)
    page = admin_client.post(reverse("automation:sandbox"), {"action": "backtest", "days": "7"}).content.decode()
    assert "3 customer messages in the last 7 days" in page and "2 would have triggered" in page
    assert "“price?”" in page and "“the price please”" in page


def test_business_hours_page(admin_client, shop):
    url = reverse("automation:business_hours")
    response = admin_client.post(url, {"day_0": "09:00-12:00, 13:00-17:00", "holidays": "2026-12-25"})
    assert response.status_code == 302
    shop.organization.business_hours.refresh_from_db()
    assert shop.organization.business_hours.weekly["0"] == [["09:00", "12:00"], ["13:00", "17:00"]]
    bad = admin_client.post(url, {"day_0": "nine-five"})
    assert bad.status_code == 400 and "time of day" in bad.content.decode()
