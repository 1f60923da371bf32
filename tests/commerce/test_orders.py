"""Orders from a conversation: totals, stock, history, messages to the customer and the event contract."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from inbox import channel_rules
from inbox.commerce.models import Order, OrderEvent, Payment
from inbox.commerce.services import orders, payments
from inbox.models import Message
from tests.commerce.factories import ProductFactory

pytestmark = [pytest.mark.core, pytest.mark.django_db]

ORDER_KEYS = {"id", "number", "status", "currency", "total", "contact_id", "conversation_id", "channel_id",
              "created_at", "paid_at"}


def _create(shop, **kwargs) -> Order:
    kwargs.setdefault("lines", [orders.LineInput(product_id=shop.batik.pk, quantity=2)])
    return orders.order_create(user=shop.agent, conversation=shop.conversation, **kwargs)


def test_order_from_a_conversation_links_the_contact_and_totals_in_the_currency(shop):
    order = _create(
        shop,
        lines=[orders.LineInput(product_id=shop.batik.pk, quantity=2), orders.LineInput(name="Gift wrap",
                                                                                       unit_price="5000")],
        details=orders.OrderDetails(discount_percent="10", shipping_fee="20000", delivery="shipping",
                                    shipping_address="Jl. Malioboro 1, Yogyakarta"),
    )
    assert (order.contact_id, order.channel_id, order.currency) == (
        shop.conversation.contact_id, shop.channel.pk, "IDR")
    assert order.subtotal == Decimal(305000)
    assert order.discount_total == Decimal(30500)
    assert order.total == Decimal(294500)
    assert order.number == 1001
    assert _create(shop).number == 1002


def test_usd_discount_rounds_half_up_to_cents(shop):
    pen = ProductFactory(organization=shop.organization, sku="PEN", price=Decimal("0.99"), currency="USD")
    order = _create(shop, lines=[orders.LineInput(product_id=pen.pk, quantity=3)],
                    details=orders.OrderDetails(discount_percent="15"))
    # 2.97 x 15% = 0.4455 -> 0.45
    assert (order.subtotal, order.discount_total, order.total) == (Decimal("2.97"), Decimal("0.45"), Decimal("2.52"))


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (orders.LineInput(sku="NOPE"), "no product 'NOPE'"),
        (orders.LineInput(product_id=None, name="Free"), "needs a unit price"),
        (orders.LineInput(name="Free", unit_price="10.5"), "0 decimal places"),
        (orders.LineInput(product_id=None, quantity=0, name="x", unit_price="1"), "quantity"),
    ],
)
def test_bad_lines_are_refused_with_the_reason(shop, line, message):
    with pytest.raises(ValidationError, match=message):
        _create(shop, lines=[line], currency="IDR")


def test_product_in_another_currency_is_refused(shop):
    with pytest.raises(ValidationError, match="priced in IDR; this order is in USD"):
        _create(shop, currency="USD")


def test_someone_without_access_to_the_conversation_cannot_order(shop):
    with pytest.raises(PermissionDenied):
        orders.order_create(user=shop.outsider, conversation=shop.conversation,
                            lines=[orders.LineInput(product_id=shop.batik.pk)])


def test_payment_link_reserves_stock_and_cancel_gives_it_back(shop):
    shop.batik.stock = 3
    shop.batik.save()
    order = _create(shop)
    orders.order_transition(user=shop.agent, order=order, to="awaiting_payment")
    shop.batik.refresh_from_db()
    assert shop.batik.stock == 1
    with pytest.raises(ValidationError, match="Only 1 of Blue batik"):
        orders.order_transition(user=shop.agent, order=_create(shop), to="awaiting_payment")
    orders.order_transition(user=shop.agent, order=order, to="cancelled")
    shop.batik.refresh_from_db()
    assert shop.batik.stock == 3
    assert order.payments.get().status == Payment.Status.CANCELLED


def test_messages_reach_the_conversation_with_commerce_metadata(shop):
    order = _create(shop)
    outcome = orders.order_send_summary(user=shop.agent, order=order)
    result = orders.order_transition(user=shop.agent, order=order, to="awaiting_payment")
    assert outcome.sent and result.outcomes[0].sent
    bodies = list(Message.objects.filter(conversation=shop.conversation).order_by("id").values_list("body", "metadata"))
    assert bodies[0][0].startswith("Order #1001\n2 x Blue batik: IDR 300,000")
    assert "Total: IDR 300,000" in bodies[0][0]
    assert bodies[0][1] == {"commerce": {"order_id": order.pk, "kind": "order_summary"}}
    link = order.payments.get().url
    assert bodies[1][0] == f"To pay order #1001 (IDR 300,000), open: {link}"


def test_a_closed_reply_window_is_reported_and_the_change_stands(shop, monkeypatch):
    monkeypatch.setitem(channel_rules._rules, "sandbox", channel_rules.ChannelRules(reply_window=timedelta(hours=24)))
    shop.conversation.last_inbound_at = timezone.now() - timedelta(days=2)
    shop.conversation.save()
    order = _create(shop)
    result = orders.order_transition(user=shop.agent, order=order, to="awaiting_payment")
    assert result.order.status == "awaiting_payment"
    assert result.notices == ["Cannot send now: The 24-hour reply window has closed: wait for the customer to "
                              "write again."]
    assert not Message.objects.filter(conversation=shop.conversation).exists()
    assert OrderEvent.objects.filter(order=order, kind="message", detail__contains="Cannot send now").exists()


def test_history_records_who_and_when(shop):
    order = _create(shop)
    orders.order_transition(user=shop.agent, order=order, to="awaiting_payment")
    payments.payment_record_manual(user=shop.supervisor, order=order, method="bank_transfer", reference="TRX-9")
    history = list(OrderEvent.objects.filter(order=order).values_list("kind", "actor_label", "to_status"))
    assert ("created", "rina", "draft") in history
    assert ("transition", "rina", "awaiting_payment") in history
    assert ("transition", "sari", "paid") in history
    assert any(k == "payment" and label == "sari" for k, label, _ in history)
    assert "TRX-9" in OrderEvent.objects.filter(order=order, kind="payment", actor=shop.supervisor).get().detail


def test_only_money_roles_record_payments_and_refunds(shop):
    order = _create(shop)
    orders.order_transition(user=shop.agent, order=order, to="awaiting_payment")
    with pytest.raises(PermissionDenied, match="supervisor, admin or owner"):
        payments.payment_record_manual(user=shop.agent, order=order, method="cash")
    payments.payment_record_manual(user=shop.supervisor, order=order, method="cash")
    with pytest.raises(PermissionDenied):
        orders.order_transition(user=shop.agent, order=order, to="refunded")


def test_only_drafts_can_be_edited(shop):
    order = _create(shop)
    order = orders.order_update(user=shop.agent, order=order, lines=[orders.LineInput(product_id=shop.batik.pk)])
    assert order.total == Decimal(150000)
    orders.order_transition(user=shop.agent, order=order, to="awaiting_payment")
    with pytest.raises(ValidationError, match="Only a draft can be edited"):
        orders.order_update(user=shop.agent, order=order, details=orders.OrderDetails(notes="x"))


def test_event_contract(shop, published):
    order = _create(shop)
    orders.order_transition(user=shop.agent, order=order, to="awaiting_payment")
    payments.payment_record_manual(user=shop.supervisor, order=order, method="cash")
    orders.order_transition(user=shop.agent, order=order, to="fulfilled")
    names = [name for name, _ in published]
    assert names == ["order.created", "order.updated", "order.paid", "order.updated"]
    for _, payload in published:
        assert set(payload["order"]) == ORDER_KEYS
        json.dumps(payload)
    paid = dict(published)["order.paid"]
    assert paid["order"]["total"] == "300000" and paid["order"]["currency"] == "IDR"
    assert paid["order"]["paid_at"] is not None
    assert (paid["value"], paid["currency"], paid["conversation_id"]) == ("300000", "IDR", shop.conversation.pk)
    assert "batik" not in json.dumps(paid).lower(), "order.paid never carries line text"
