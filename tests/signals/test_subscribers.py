"""In-transaction subscribers: attribution (first wins), keyword flags (once per conversation), outbox rows."""

from __future__ import annotations

import pytest
from django.db import transaction

from inbox.models import Conversation
from signals.models import ConversationFlag, MessageEventRule, SignalEvent, TrackingExtractorRule
from signals.services import accounts, keywords
from tests.signals.conftest import Shop, make_shop

pytestmark = [pytest.mark.core, pytest.mark.django_db]


def conversation(shop: Shop) -> Conversation:
    return Conversation.objects.get(organization=shop.organization)


def test_referral_attributes_the_conversation_and_writes_contact(shop: Shop):
    shop.receive(
        "Hello, is this available?",
        referral={"source": "tiktok_ad", "ad_id": "ad-7", "campaign_id": "c-1", "click_id": "E.C.P.clickid123"},
    )
    conv = conversation(shop)
    assert (conv.tracking_id, conv.ad_id, conv.campaign_id) == ("E.C.P.clickid123", "ad-7", "c-1")
    [event] = SignalEvent.objects.all()
    assert (event.event_name, event.trigger, event.ttclid) == (
        "Contact",
        "conversation_started_from_ad",
        "E.C.P.clickid123",
    )
    assert TrackingExtractorRule.objects.filter(organization=shop.organization).count() == 6  # defaults seeded


def test_first_attribution_wins(shop: Shop):
    shop.receive("hi #TT-first0001")
    shop.receive("again #TT-second002 and [ref:other]")
    conv = conversation(shop)
    assert conv.tracking_id == "first0001"
    assert SignalEvent.objects.filter(trigger="conversation_started_from_ad").count() == 1


def test_patterns_only_read_the_first_messages(shop: Shop, settings):
    settings.SIGNALS_TRACKING_MESSAGES = 2
    shop.receive("one")
    shop.receive("two")
    shop.receive("three #TT-toolate99")
    assert conversation(shop).tracking_id == ""
    assert not SignalEvent.objects.exists()


def test_a_later_message_can_complete_a_token_from_the_first_ones(shop: Shop):
    shop.receive("hello")
    shop.receive("my code [ref:spring-42]")
    assert conversation(shop).tracking_id == "spring-42"


def test_keyword_flag_once_per_conversation(shop: Shop):
    shop.receive("Can I pay by bank transfer?")
    shop.receive("PAYMENT please, ｐａｙｍｅｎｔ")
    shop.receive("pembayaran sudah")
    flags = list(ConversationFlag.objects.values_list("flag", flat=True))
    assert flags == ["payment"]
    [event] = SignalEvent.objects.filter(trigger="keyword_flag")
    assert event.flags == ["payment"] and event.event_name == "QualifiedLead"


def test_no_tracking_id_still_flags(shop: Shop):
    shop.receive("ราคาเท่าไหร่คะ")  # Thai "how much": substring matching in a script without spaces
    assert list(ConversationFlag.objects.values_list("flag", flat=True)) == ["price"]
    assert conversation(shop).tracking_id == ""
    assert not SignalEvent.objects.exists()  # no rule for "price"


def test_flag_rule_without_flag_name_matches_any_flag(shop: Shop):
    accounts.event_rule_create(
        organization=shop.organization,
        trigger="keyword_flag",
        event_name="ViewContent",
        advertiser_account=shop.account,
    )
    shop.receive("price and payment")
    names = sorted(SignalEvent.objects.values_list("event_name", "flags"))
    assert names == [("QualifiedLead", ["payment"]), ("ViewContent", ["payment"]), ("ViewContent", ["price"])]


def test_matcher_cache_follows_keyword_changes(shop: Shop):
    shop.receive("do you ship to Bali?", customer="a")
    assert not ConversationFlag.objects.exists()
    keywords.keyword_add(keyword_list=shop.keyword_list, phrase="ship", flag="shipping")
    shop.receive("do you ship to Bali?", customer="b")
    assert list(ConversationFlag.objects.values_list("flag", flat=True)) == ["shipping"]


def test_disabled_rules_and_disconnected_accounts_write_nothing(shop: Shop):
    accounts.advertiser_disconnect(account=shop.account)
    shop.receive("payment #TT-abcdef01")
    assert not SignalEvent.objects.exists()
    assert ConversationFlag.objects.count() == 1 and conversation(shop).tracking_id == "abcdef01"


def test_outbound_echo_raises_nothing(shop: Shop):
    from inbox.services.messages import message_receive_inbound

    message_receive_inbound(
        channel=shop.channel,
        customer_id="c",
        external_id="echo-1",
        sent_at=shop.account.connected_at,
        direction="outbound",
        text="payment #TT-abcdef01",
    )
    assert not ConversationFlag.objects.exists() and not SignalEvent.objects.exists()


def test_order_paid_event_carries_value_and_currency(shop: Shop):
    from inbox import events

    result = shop.receive("hello")
    accounts.event_rule_create(
        organization=shop.organization,
        trigger="order_paid",
        event_name="CompletePayment",
        advertiser_account=shop.account,
    )
    with transaction.atomic():
        events.publish(
            "order.paid",
            organization_id=shop.organization.pk,
            order={"id": 99, "conversation_id": result.message.conversation_id, "value": "x"},
            conversation_id=result.message.conversation_id,
            value=125000,
            currency="idr",
            note="free text that must not travel",
        )
        events.publish(
            "order.paid",
            organization_id=shop.organization.pk,
            order={"id": 99},
            conversation_id=result.message.conversation_id,
            value=125000,
            currency="idr",
        )
    [event] = SignalEvent.objects.filter(trigger=MessageEventRule.Trigger.ORDER_PAID)
    assert event.properties == {"value": 125000.0, "currency": "IDR", "content_type": "product"}


def test_two_organizations_do_not_share_keywords(db):
    one = make_shop()
    other = make_shop(base_keywords=(("harga", "price"),))
    other.receive("payment harga")
    assert list(ConversationFlag.objects.values_list("flag", flat=True)) == ["price"]
    one.receive("harga")
    assert ConversationFlag.objects.count() == 1
