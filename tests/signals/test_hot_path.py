"""Every inbound message runs the signals and automation subscribers. For an organization with nothing configured
(no keyword list, no auto-reply rule) they cost no query once the per-process caches are warm, and a list or rule
created after that is still seen by the next message."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inbox import events
from inbox.automation import ruleset_cache
from inbox.automation import subscribers as automation_subscribers
from inbox.automation.models import RuleRun
from inbox.automation.tasks import evaluate_message
from inbox.models import Conversation
from signals import subscribers as signals_subscribers
from signals.models import ConversationFlag
from signals.services import keywords
from tests.automation.factories import make_rule
from tests.automation.factories import make_shop as make_automation_shop
from tests.signals.conftest import Shop, make_shop

pytestmark = [pytest.mark.core, pytest.mark.django_db]


def _received(shop, result) -> events.DomainEvent:
    """The ``message.received`` event as the inbox publishes it (payload through JSON, as the bus does)."""
    from inbox.selectors import conversation_as_dict, message_as_dict

    conversation = Conversation.objects.get(pk=result.message.conversation_id)
    return events.DomainEvent(
        "message.received",
        shop.organization.pk,
        {"message": message_as_dict(result.message), "conversation": conversation_as_dict(conversation)},
    )


def _queries(fn) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        fn()
    return [q["sql"] for q in captured.captured_queries]


@pytest.fixture(autouse=True)
def _fresh_rulesets():
    ruleset_cache.forget()
    yield
    ruleset_cache.forget()


def test_signals_subscriber_costs_no_query_for_an_attributed_conversation_without_keywords():
    shop = make_shop(rules=False, base_keywords=())
    shop.receive("hi #TT-camp000001", customer="c1")  # attributes the conversation and warms the caches
    event = _received(shop, shop.receive("what colours do you have?", customer="c1"))
    assert event.payload["conversation"]["tracking_id"]

    assert _queries(lambda: signals_subscribers.on_message_received(event)) == []


def test_keyword_matching_reads_no_table_per_message_once_warm():
    shop = make_shop(rules=False, base_keywords=())
    result = shop.receive("hello", customer="c2")
    keywords.organization_matcher(shop.organization.pk)  # warm
    queries = _queries(
        lambda: signals_subscribers.outbox.conversation_raise_flags(
            organization_id=shop.organization.pk, conversation_id=result.message.conversation_id, text="payment"
        )
    )
    assert queries == []


def test_a_keyword_added_after_the_cache_is_warm_raises_its_flag(shop: Shop):
    first = shop.receive("hello", customer="c3")
    keywords.organization_matcher(shop.organization.pk)
    keywords.keyword_add(keyword_list=shop.keyword_list, phrase="restock", flag="restock")
    shop.receive("when is the restock?", customer="c3")
    assert ConversationFlag.objects.filter(conversation_id=first.message.conversation_id, flag="restock").exists()


def test_automation_subscriber_costs_no_query_and_no_task_without_rules():
    from tests.factories import MessageFactory, make_conversation

    shop = make_automation_shop()
    conversation = make_conversation(shop.channel)
    message = MessageFactory(conversation=conversation, body="price?")
    event = events.DomainEvent(
        "message.received",
        shop.organization.pk,
        {"message": {"id": message.pk, "direction": "inbound", "sender_type": "contact"}},
    )
    automation_subscribers.on_message_received(event)  # warm
    assert _queries(lambda: automation_subscribers.on_message_received(event)) == []
    assert not RuleRun.objects.exists()

    # A rule created after the cache is warm fires on the next message (its task run in-process, as embedded).
    make_rule(shop, keywords=["price"])
    later = MessageFactory(conversation=conversation, body="price please")
    conf = evaluate_message.app.conf
    eager = conf.task_always_eager
    conf.task_always_eager = True
    try:
        automation_subscribers.on_message_received(
            events.DomainEvent(
                "message.received",
                shop.organization.pk,
                {"message": {"id": later.pk, "direction": "inbound", "sender_type": "contact"}},
            )
        )
    finally:
        conf.task_always_eager = eager
    assert RuleRun.objects.filter(message=later).exists()
