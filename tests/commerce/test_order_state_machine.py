"""Every allowed and every forbidden order move, through the services an agent uses."""

from __future__ import annotations

import itertools

import pytest

from inbox.commerce.models import Order, OrderEvent
from inbox.commerce.services import orders, payments
from inbox.commerce.transitions import ORDER_TRANSITIONS, TransitionError

pytestmark = [pytest.mark.core, pytest.mark.django_db]

STATUSES = list(ORDER_TRANSITIONS)
ALLOWED = [(a, b) for a in STATUSES for b in sorted(ORDER_TRANSITIONS[a])]
FORBIDDEN = [(a, b) for a, b in itertools.product(STATUSES, STATUSES) if b not in ORDER_TRANSITIONS[a]]


def _order_in(shop, status: str) -> Order:
    order = orders.order_create(
        user=shop.supervisor, conversation=shop.conversation, lines=[orders.LineInput(product_id=shop.batik.pk)]
    )
    # Put it in the starting state directly: the moves under test are the ones after this.
    Order.objects.filter(pk=order.pk).update(status=status)
    order.refresh_from_db()
    return order


def _move(shop, order: Order, target: str) -> Order:
    if target == "paid":
        return payments.payment_record_manual(user=shop.supervisor, order=order, method="cash").order
    return orders.order_transition(user=shop.supervisor, order=order, to=target).order


def test_the_graph_covers_the_issue():
    assert ALLOWED == [
        ("draft", "awaiting_payment"), ("draft", "cancelled"), ("awaiting_payment", "cancelled"),
        ("awaiting_payment", "paid"), ("paid", "fulfilled"), ("paid", "refunded"), ("fulfilled", "refunded"),
    ]


@pytest.mark.parametrize(("source", "target"), ALLOWED)
def test_allowed_move(shop, source, target):
    order = _order_in(shop, source)
    moved = _move(shop, order, target)
    assert moved.status == target
    assert Order.objects.get(pk=order.pk).status == target
    event = OrderEvent.objects.filter(order=order, kind="transition").latest("id")
    assert (event.from_status, event.to_status, event.actor) == (source, target, shop.supervisor)


@pytest.mark.parametrize(("source", "target"), FORBIDDEN)
def test_forbidden_move_is_refused_with_a_clear_error(shop, source, target):
    order = _order_in(shop, source)
    with pytest.raises(TransitionError) as caught:
        _move(shop, order, target)
    message = " ".join(caught.value.messages)
    assert "cannot become" in message or "already" in message or "final" in message
    assert Order.objects.get(pk=order.pk).status == source
    assert not OrderEvent.objects.filter(order=order, kind="transition").exists()


def test_paid_is_reached_only_through_a_payment(shop):
    order = _order_in(shop, "awaiting_payment")
    with pytest.raises(Exception, match="through a payment"):
        orders.order_transition(user=shop.supervisor, order=order, to="paid")


def test_unknown_status_is_named(shop):
    order = _order_in(shop, "draft")
    with pytest.raises(TransitionError, match="'shipped' is not one of the order statuses"):
        orders.order_transition(user=shop.supervisor, order=order, to="shipped")
