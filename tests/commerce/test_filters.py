"""The inbox filter conditions: has order, has open order, has reservation."""

from __future__ import annotations

import pytest

from inbox.commerce import filters
from inbox.commerce.models import Order
from inbox.commerce.services import orders, reservations
from inbox.models import Conversation
from tests.commerce.conftest import at_hour
from tests.factories import make_conversation

pytestmark = [pytest.mark.core, pytest.mark.django_db]


def ids(q) -> set[int]:
    return set(Conversation.objects.filter(q).values_list("pk", flat=True))


def test_conditions(shop):
    other = make_conversation(shop.channel, customer_id="cust-99", name="Other")
    assert ids(filters.has_order(True)) == set()
    order = orders.order_create(user=shop.agent, conversation=shop.conversation,
                                lines=[orders.LineInput(product_id=shop.batik.pk)])
    assert ids(filters.has_order(True)) == {shop.conversation.pk}
    assert ids(filters.has_order("false")) == {other.pk}
    assert ids(filters.has_open_order(True)) == {shop.conversation.pk}
    Order.objects.filter(pk=order.pk).update(status="fulfilled")
    assert ids(filters.has_open_order(True)) == set()
    assert ids(filters.has_reservation(True)) == set()
    reservations.reservation_hold(user=shop.agent, conversation=other, resource=shop.table, starts_at=at_hour())
    assert ids(filters.has_reservation(True)) == {other.pk}
    assert ids(filters.has_reservation(False)) == {shop.conversation.pk}


def test_registered_in_the_inbox_filter_language(shop):
    from inbox import filters as inbox_filters

    assert {"has_order", "has_open_order", "has_reservation"} <= set(inbox_filters.registered_conditions())


def test_filter_document_has_open_order(shop):
    from inbox import filters as inbox_filters
    from inbox.permissions import visible_conversations

    orders.order_create(user=shop.agent, conversation=shop.conversation,
                        lines=[orders.LineInput(product_id=shop.batik.pk)])
    other = make_conversation(shop.channel, customer_id="cust-77", name="Other")
    context = inbox_filters.filter_context(shop.agent)
    found = inbox_filters.apply_filter(visible_conversations(shop.agent), {"has_open_order": True}, context=context)
    assert list(found.values_list("pk", flat=True)) == [shop.conversation.pk]
    none = inbox_filters.apply_filter(visible_conversations(shop.agent), {"has_order": False}, context=context)
    assert list(none.values_list("pk", flat=True)) == [other.pk]
