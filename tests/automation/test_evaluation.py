"""Rules on real messages: what fires, in which order, how often, and what each action did."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inbox.automation.models import RuleRun
from inbox.automation.services.rules import business_hours_set, rule_set_enabled
from inbox.automation.services.runs import conversations_evaluate_unanswered, message_evaluate
from inbox.models import Channel, Message
from tests.automation.factories import make_rule, make_shop
from tests.factories import MessageFactory, make_conversation

pytestmark = [pytest.mark.core, pytest.mark.django_db]


def customer_says(conversation, text: str, **fields) -> Message:
    return MessageFactory(conversation=conversation, body=text, **fields)


def automated(conversation) -> list[Message]:
    return list(conversation.messages.filter(sender_type=Message.SenderType.AUTOMATION).order_by("id"))


def test_keyword_reply_is_queued_marked_and_logged():
    shop = make_shop()
    rule = make_rule(shop, keywords=["price"], reply="Hi {{contact.first_name}}, see {{channel.name}} prices")
    conversation = make_conversation(shop.channel, name="Siti Aminah")
    message = customer_says(conversation, "What's the PRICE?")
    [run] = message_evaluate(message_id=message.pk)
    [reply] = automated(conversation)
    assert reply.body == "Hi Siti, see Sandbox prices"
    assert reply.metadata["automation"] == {
        "rule_id": rule.pk,
        "rule_name": "Price",
        "version": 1,
        "matched": ["price"],
    }
    assert run.version == rule.current_version and run.message == message and run.matched == ["price"]
    assert run.actions == [{"type": "send_reply", "status": "done", "detail": reply.body, "message_id": reply.pk}]


def test_evaluation_is_idempotent_per_version_and_message():
    shop = make_shop()
    make_rule(shop)
    conversation = make_conversation(shop.channel)
    message = customer_says(conversation, "price?")
    assert len(message_evaluate(message_id=message.pk)) == 1
    assert message_evaluate(message_id=message.pk) == []
    assert len(automated(conversation)) == 1


def test_never_fires_on_our_own_automated_or_echoed_messages():
    shop = make_shop()
    make_rule(shop, keywords=["price"])
    conversation = make_conversation(shop.channel)
    for sender in (Message.SenderType.AGENT, Message.SenderType.AUTOMATION, Message.SenderType.PROVIDER_ECHO):
        ours = customer_says(conversation, "price", direction="outbound", sender_type=sender, status="sent")
        assert message_evaluate(message_id=ours.pk) == []
    assert not RuleRun.objects.exists()
    assert not conversation.messages.filter(status=Message.Status.QUEUED).exists()


def test_priority_order_and_stop_after_first_match():
    shop = make_shop()
    make_rule(shop, "Catch-all", trigger="message", reply="We got your message", stop_after_match=False)
    make_rule(shop, "Price", keywords=["price"], reply="Prices", stop_after_match=True)
    make_rule(shop, "Delivery", keywords=["delivery"], reply="Delivery")
    conversation = make_conversation(shop.channel)
    runs = message_evaluate(message_id=customer_says(conversation, "price and delivery?").pk)
    assert [r.rule.name for r in runs] == ["Catch-all", "Price"]
    assert [m.body for m in automated(conversation)] == ["We got your message", "Prices"]


def test_disabled_rules_do_not_fire():
    shop = make_shop()
    rule = make_rule(shop, enabled=False)
    conversation = make_conversation(shop.channel)
    assert message_evaluate(message_id=customer_says(conversation, "price").pk) == []
    rule_set_enabled(user=shop.admin, rule=rule, enabled=True)
    assert len(message_evaluate(message_id=customer_says(conversation, "price").pk)) == 1


def test_once_per_conversation():
    shop = make_shop()
    make_rule(shop, once_per_conversation=True)
    conversation = make_conversation(shop.channel)
    assert message_evaluate(message_id=customer_says(conversation, "price").pk)
    assert not message_evaluate(message_id=customer_says(conversation, "price again").pk)
    other = make_conversation(shop.channel, customer_id="cust-2")
    assert message_evaluate(message_id=customer_says(other, "price").pk)


def test_greeting_fires_on_the_first_customer_message_only():
    shop = make_shop()
    make_rule(shop, "Hello", trigger="greeting", reply="Welcome to {{organization.name}}!")
    conversation = make_conversation(shop.channel)
    assert message_evaluate(message_id=customer_says(conversation, "hi").pk)
    assert not message_evaluate(message_id=customer_says(conversation, "anyone?").pk)
    assert automated(conversation)[0].body == f"Welcome to {shop.organization.name}!"


def test_away_message_outside_business_hours_in_the_organization_time_zone():
    shop = make_shop(time_zone="Asia/Jakarta")  # UTC+7
    business_hours_set(
        user=shop.admin,
        organization=shop.organization,
        weekly={str(d): [["09:00", "17:00"]] for d in range(7)},
        holidays=[],
    )
    make_rule(shop, "Away", trigger="away", reply="We are closed; we answer from 9:00.")
    conversation = make_conversation(shop.channel)
    monday_8pm_jakarta = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
    monday_10am_jakarta = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
    assert not message_evaluate(message_id=customer_says(conversation, "hello").pk, at=monday_10am_jakarta)
    assert message_evaluate(message_id=customer_says(conversation, "hello").pk, at=monday_8pm_jakarta)


def test_conditions_on_channel_kind_and_assignment():
    shop = make_shop()
    make_rule(shop, conditions={"channel_kinds": ["whatsapp"]})
    make_rule(shop, "Unassigned", keywords=["help"], conditions={"assigned": False})
    conversation = make_conversation(shop.channel, assignee=shop.admin)
    assert message_evaluate(message_id=customer_says(conversation, "price help").pk) == []


def test_a_closed_reply_window_is_recorded_not_raised():
    shop = make_shop()
    whatsapp = Channel.objects.create(organization=shop.organization, kind="whatsapp", name="WA", account_id="pn-1")
    make_rule(shop)
    conversation = make_conversation(whatsapp, last_inbound_at=timezone.now() - timedelta(days=2))
    [run] = message_evaluate(message_id=customer_says(conversation, "price").pk)
    assert run.actions[0]["status"] == "failed" and "window" in run.actions[0]["detail"]
    assert automated(conversation) == []


@override_settings(AUTOMATION_LOOP_MAX_REPLIES=2, AUTOMATION_LOOP_WINDOW_MINUTES=10)
def test_loop_guard_stops_replying_to_a_chatty_bot():
    shop = make_shop()
    make_rule(shop, trigger="message", reply="Thanks, we will answer soon")
    conversation = make_conversation(shop.channel)
    results = [message_evaluate(message_id=customer_says(conversation, f"bot says {i}").pk)[0] for i in range(4)]
    assert [r.actions[0]["status"] for r in results] == ["done", "done", "skipped", "skipped"]
    assert "loop guard" in results[2].actions[0]["detail"]
    assert len(automated(conversation)) == 2


def test_actions_of_inbox_features_act_as_the_rule_author_and_report_what_they_did():
    from inbox.models import Label

    shop = make_shop()
    Label.objects.create(organization=shop.organization, name="Pricing")
    make_rule(
        shop,
        actions=[
            {"type": "add_label", "label": "pricing"},
            {"type": "add_label", "label": "missing"},
            {"type": "set_priority", "priority": "high"},
            {"type": "add_note", "text": "Asked about prices ({{contact.name}})"},
            {"type": "send_reply", "text": "Prices: example.com"},
        ],
    )
    conversation = make_conversation(shop.channel, name="Ana")
    [run] = message_evaluate(message_id=customer_says(conversation, "price").pk)
    statuses = [(a["type"], a["status"]) for a in run.actions]
    assert statuses == [
        ("add_label", "done"),
        ("add_label", "failed"),
        ("set_priority", "done"),
        ("add_note", "done"),
        ("send_reply", "done"),
    ]
    conversation.refresh_from_db()
    assert conversation.priority == "high"
    assert list(conversation.labels.values_list("name", flat=True)) == ["Pricing"]
    assert conversation.notes.get().body == "Asked about prices (Ana)"


def test_no_agent_reply_within_n_minutes_sweep():
    shop = make_shop()
    make_rule(shop, "Still there", trigger="no_reply", trigger_options={"minutes": 15}, reply="An agent is coming")
    now = timezone.now()
    waiting = make_conversation(shop.channel, last_inbound_at=now - timedelta(minutes=20))
    customer_says(waiting, "hello?")
    fresh = make_conversation(shop.channel, customer_id="c2", last_inbound_at=now - timedelta(minutes=5))
    customer_says(fresh, "hello?")
    assert conversations_evaluate_unanswered(at=now) == 1
    assert conversations_evaluate_unanswered(at=now) == 0  # once per waiting message
    assert [m.body for m in automated(waiting)] == ["An agent is coming"] and automated(fresh) == []


@given(gaps=st.lists(st.integers(min_value=0, max_value=90), min_size=1, max_size=8))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_rule_never_fires_twice_within_its_cooldown(gaps):
    shop = _cooldown_shop()
    conversation = make_conversation(shop.channel, customer_id=f"c-{uuid.uuid4().hex}")
    at = timezone.now()
    for gap in gaps:
        at += timedelta(minutes=gap)
        message_evaluate(message_id=customer_says(conversation, "price").pk, at=at)
    times = list(
        RuleRun.objects.filter(conversation=conversation).order_by("created_at").values_list("created_at", flat=True)
    )
    assert times, "the first message always fires"
    assert all(b - a >= timedelta(minutes=30) for a, b in zip(times, times[1:], strict=False))


_shops: dict[str, object] = {}


def _cooldown_shop():
    from inbox.automation.models import AutoReplyRule

    shop = _shops.get("cooldown")
    if shop is None or not AutoReplyRule.objects.filter(organization=shop.organization).exists():
        shop = make_shop()
        make_rule(shop, cooldown_minutes=30, stop_after_match=True)
        _shops["cooldown"] = shop
    return shop


def test_conversation_labelled_trigger_fires_once_per_label_added():
    from inbox.models import Label
    from inbox.services.labels import label_apply

    shop = make_shop()
    vip = Label.objects.create(organization=shop.organization, name="VIP")
    Label.objects.create(organization=shop.organization, name="Spam")
    make_rule(shop, "VIP", trigger="labelled", trigger_options={"labels": ["VIP"]}, reply="A VIP agent will help you")
    conversation = make_conversation(shop.channel)
    customer_says(conversation, "hello")
    label_apply(user=shop.admin, conversation=conversation, label=vip)
    from inbox.automation.services.runs import conversation_evaluate_labelled

    assert len(conversation_evaluate_labelled(conversation_id=conversation.pk)) == 1
    assert conversation_evaluate_labelled(conversation_id=conversation.pk) == []
    assert [m.body for m in automated(conversation)] == ["A VIP agent will help you"]


def test_assign_round_robin_among_agents_with_access():
    from inbox.models import Role
    from tests.factories import MembershipFactory

    shop = make_shop()
    agents = [MembershipFactory(organization=shop.organization, role=Role.AGENT) for _ in range(2)]
    for membership in agents:
        membership.channels.add(shop.channel)
    MembershipFactory(organization=shop.organization, role=Role.AGENT)  # no access to the channel: never chosen
    make_rule(shop, actions=[{"type": "assign"}])
    assignees = []
    for n in range(3):
        conversation = make_conversation(shop.channel, customer_id=f"rr-{n}")
        [run] = message_evaluate(message_id=customer_says(conversation, "price").pk)
        assert run.actions[0]["status"] == "done", run.actions
        conversation.refresh_from_db()
        assignees.append(conversation.assignee_id)
    first, second = sorted(m.user_id for m in agents)
    assert assignees == [first, second, first]
