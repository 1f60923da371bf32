"""Orders from a conversation: create, edit while draft, move along the status graph, tell the customer.

Every change is one transaction: the order row is locked, the change and its ``OrderEvent`` are written, and the
domain event is published inside it (in-transaction subscribers write their outbox rows in the same commit).
Messages to the customer never block a change: when the channel refuses ("reply window closed"), the change
stands and the result carries a "Cannot send now: <reason>" notice for the agent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from inbox import events
from inbox.commerce import money, texts
from inbox.commerce.models import Order, OrderEvent, OrderLine, OrderSequence, Payment, Product
from inbox.commerce.payloads import order_as_event_dict
from inbox.commerce.permissions import check_can_handle_money, check_can_use_conversation
from inbox.commerce.services.notify import SendOutcome, send_to_customer
from inbox.commerce.transitions import check_order_transition
from inbox.models import Conversation

MAX_LINES = 100
MAX_QUANTITY = 100_000


@dataclass(frozen=True)
class LineInput:
    """A line as the agent enters it: a catalog product (by id or SKU) or a free line with name and price."""

    quantity: int = 1
    product_id: int | None = None
    sku: str = ""
    name: str = ""
    unit_price: Any = None  # overrides the product price when given


@dataclass
class OrderResult:
    order: Order
    outcomes: list[SendOutcome] = field(default_factory=list)

    @property
    def notices(self) -> list[str]:
        return [o.notice for o in self.outcomes]


@dataclass(frozen=True)
class OrderDetails:
    delivery: str = Order.Delivery.NONE
    shipping_name: str = ""
    shipping_address: str = ""
    shipping_phone: str = ""
    pickup_location: str = ""
    notes: str = ""
    discount_percent: Any = 0
    discount_amount: Any = 0
    shipping_fee: Any = 0


def _actor_label(user: Any) -> str:
    return user.get_username() if user is not None else "system"


def _record(order: Order, *, kind: str, user: Any = None, label: str = "", detail: str = "", **statuses: str) -> None:
    OrderEvent.objects.create(
        order=order, kind=kind, actor=user, actor_label=label or _actor_label(user), detail=detail[:500], **statuses
    )


def _next_number(organization_id: int) -> int:
    OrderSequence.objects.get_or_create(organization_id=organization_id)
    sequence = OrderSequence.objects.select_for_update().get(organization_id=organization_id)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    return sequence.last_number


def _resolve_lines(organization_id: int, currency: str, lines: Sequence[LineInput]) -> list[OrderLine]:
    if not lines:
        raise ValidationError(gettext("Add at least one line to the order."))
    if len(lines) > MAX_LINES:
        raise ValidationError(gettext("An order can have at most %(max_lines)s lines.") % {"max_lines": MAX_LINES})
    resolved = []
    for position, line in enumerate(lines, 1):
        where = f"Line {position}"
        try:
            quantity = int(line.quantity)
        except (TypeError, ValueError) as exc:
            raise ValidationError(gettext("%(where)s: quantity must be a whole number.") % {"where": where}) from exc
        if not 1 <= quantity <= MAX_QUANTITY:
            raise ValidationError(
                gettext("%(where)s: quantity must be between 1 and %(max_quantity)s.")
                % {"where": where, "max_quantity": MAX_QUANTITY}
            )
        product = None
        if line.product_id or line.sku:
            lookup = {"pk": line.product_id} if line.product_id else {"sku": line.sku.strip()}
            product = Product.objects.filter(organization_id=organization_id, **lookup).first()
            if product is None:
                raise ValidationError(
                    gettext("%(where)s: no product %(value)s in the catalog.")
                    % {"where": where, "value": repr(line.product_id or line.sku)}
                )
            if not product.active:
                raise ValidationError(
                    gettext("%(where)s: %(name)s is not for sale (inactive).") % {"where": where, "name": product.name}
                )
            if product.currency != currency and line.unit_price in (None, ""):
                raise ValidationError(
                    gettext("%(where)s: %(name)s is priced in %(currency)s; this order is in %(currency2)s.")
                    % {"where": where, "name": product.name, "currency": product.currency, "currency2": currency}
                )
        name = (line.name or (product.name if product else "")).strip()
        if not name:
            raise ValidationError(gettext("%(where)s: a line needs a product or a name.") % {"where": where})
        price_input = line.unit_price if line.unit_price not in (None, "") else (product.price if product else None)
        if price_input is None:
            raise ValidationError(gettext("%(where)s: a free line needs a unit price.") % {"where": where})
        unit_price = money.parse_amount(price_input, currency, field=f"{where} unit price")
        resolved.append(
            OrderLine(
                product=product,
                sku=product.sku if product else line.sku.strip()[:64],
                name=name[:200],
                unit_price=unit_price,
                quantity=quantity,
                line_total=money.quantize(unit_price * quantity, currency),
                position=position,
            )
        )
    return resolved


def _apply_details(order: Order, details: OrderDetails) -> None:
    if details.delivery not in Order.Delivery.values:
        raise ValidationError(
            gettext("delivery must be one of: %(value)s.") % {"value": ", ".join(Order.Delivery.values)}
        )
    if details.delivery == Order.Delivery.SHIPPING and not details.shipping_address.strip():
        raise ValidationError(gettext("Shipping needs an address."))
    try:
        percent = Decimal(str(details.discount_percent or 0))
    except ArithmeticError as exc:
        raise ValidationError(gettext("discount percent must be a number.")) from exc
    if not Decimal(0) <= percent <= Decimal(100) or percent != percent.quantize(Decimal("0.01")):
        raise ValidationError(gettext("discount percent must be between 0 and 100, with at most 2 decimals."))
    order.delivery = details.delivery
    order.shipping_name = details.shipping_name.strip()[:200]
    order.shipping_address = details.shipping_address.strip()[:2000]
    order.shipping_phone = details.shipping_phone.strip()[:40]
    order.pickup_location = details.pickup_location.strip()[:200]
    order.notes = details.notes.strip()[:5000]
    order.discount_percent = percent
    order.discount_amount = money.parse_amount(details.discount_amount or 0, order.currency, field="discount")
    order.shipping_fee = money.parse_amount(details.shipping_fee or 0, order.currency, field="shipping fee")


def _recompute(order: Order, lines: Sequence[OrderLine]) -> None:
    totals = money.compute_totals(
        currency=order.currency,
        lines=[money.LineAmount(line.unit_price, line.quantity) for line in lines],
        discount_percent=order.discount_percent,
        discount_amount=order.discount_amount,
        shipping=order.shipping_fee,
    )
    order.subtotal, order.discount_total, order.total = totals.subtotal, totals.discount, totals.total


def order_create(
    *,
    user: Any,
    conversation: Conversation,
    currency: str = "",
    lines: Sequence[LineInput],
    details: OrderDetails | None = None,
) -> Order:
    """A draft order in the conversation, for its contact, with currency-correct totals. Publishes
    ``order.created``. ``currency`` defaults to the first catalog product's, then ``COMMERCE_DEFAULT_CURRENCY``."""
    check_can_use_conversation(user, conversation)
    if not currency:
        first = next((line for line in lines if line.product_id or line.sku), None)
        product = None
        if first is not None:
            lookup = {"pk": first.product_id} if first.product_id else {"sku": first.sku.strip()}
            product = Product.objects.filter(organization_id=conversation.organization_id, **lookup).first()
        currency = product.currency if product else settings.COMMERCE_DEFAULT_CURRENCY
    currency = money.validate_currency(currency)
    with transaction.atomic():
        resolved = _resolve_lines(conversation.organization_id, currency, lines)
        order = Order(
            organization_id=conversation.organization_id,
            conversation=conversation,
            contact_id=conversation.contact_id,
            channel_id=conversation.channel_id,
            currency=currency,
            created_by=user,
        )
        _apply_details(order, details or OrderDetails())
        _recompute(order, resolved)
        order.number = _next_number(conversation.organization_id)
        order.save()
        for line in resolved:
            line.order = order
        OrderLine.objects.bulk_create(resolved)
        _record(
            order,
            kind=OrderEvent.Kind.CREATED,
            user=user,
            to_status=order.status,
            detail=f"{len(resolved)} line(s), total {money.format_money(order.total, currency)}",
        )
        events.publish("order.created", organization_id=order.organization_id, order=order_as_event_dict(order))
    return order


def _locked(order: Order) -> Order:
    return Order.objects.select_for_update(of=("self",)).select_related("conversation").get(pk=order.pk)


def order_update(
    *, user: Any, order: Order, lines: Sequence[LineInput] | None = None, details: OrderDetails | None = None
) -> Order:
    """Edit a draft: its lines and/or details. A sent order is fixed (cancel and make a new one)."""
    check_can_use_conversation(user, order.conversation)
    with transaction.atomic():
        order = _locked(order)
        if order.status != Order.Status.DRAFT:
            raise ValidationError(
                gettext("Only a draft can be edited; order #%(number)s is %(value)s.")
                % {"number": order.number, "value": order.get_status_display()}
            )
        if details is not None:
            _apply_details(order, details)
        if lines is not None:
            resolved = _resolve_lines(order.organization_id, order.currency, lines)
            order.lines.all().delete()
            for line in resolved:
                line.order = order
            OrderLine.objects.bulk_create(resolved)
        else:
            resolved = list(order.lines.all())
        _recompute(order, resolved)
        order.updated_at = timezone.now()
        order.save()
        _record(
            order,
            kind=OrderEvent.Kind.EDITED,
            user=user,
            detail=f"total {money.format_money(order.total, order.currency)}",
        )
        events.publish("order.updated", organization_id=order.organization_id, order=order_as_event_dict(order))
    return order


def _reserve_stock(order: Order) -> None:
    """Take the lines' units from tracked stock (products locked in id order, so concurrent orders cannot
    deadlock or oversell)."""
    wanted: dict[int, int] = {}
    for line in order.lines.all():
        if line.product_id:
            wanted[line.product_id] = wanted.get(line.product_id, 0) + line.quantity
    products = Product.objects.select_for_update().filter(pk__in=wanted, stock__isnull=False).order_by("pk")
    for product in products:
        if product.stock < wanted[product.pk]:
            raise ValidationError(
                gettext("Only %(stock)s of %(name)s (%(sku)s) left in stock.")
                % {"stock": product.stock, "name": product.name, "sku": product.sku}
            )
        product.stock -= wanted[product.pk]
        product.save(update_fields=["stock"])
    order.stock_reserved = True


def _release_stock(order: Order) -> None:
    if not order.stock_reserved:
        return
    for line in order.lines.filter(product__stock__isnull=False).select_related("product"):
        product = Product.objects.select_for_update().get(pk=line.product_id)
        product.stock += line.quantity
        product.save(update_fields=["stock"])
    order.stock_reserved = False


def _set_status(order: Order, target: str, *, user: Any, label: str = "", detail: str = "") -> str:
    """Move a locked order to ``target`` (checked against the graph) and record who did it."""
    check_order_transition(order.status, target)
    previous = order.status
    order.status = target
    order.updated_at = timezone.now()
    if target == Order.Status.PAID:
        order.paid_at = order.updated_at
    _record(
        order,
        kind=OrderEvent.Kind.TRANSITION,
        user=user,
        label=label,
        from_status=previous,
        to_status=target,
        detail=detail,
    )
    return previous


def _notify(order: Order, text: str, kind: str, *, user: Any = None) -> SendOutcome:
    outcome = send_to_customer(
        conversation=order.conversation, text=text, commerce={"order_id": order.pk, "kind": kind}
    )
    _record(order, kind=OrderEvent.Kind.MESSAGE, user=user, detail=f"{kind}: {outcome.notice}")
    return outcome


def order_transition(*, user: Any, order: Order, to: str, note: str = "", notify: bool = True) -> OrderResult:
    """Move the order to ``to`` along draft -> awaiting_payment -> paid -> fulfilled (or cancelled/refunded).

    Refuses moves the graph does not allow with a ``TransitionError`` naming the allowed ones. Side effects:
    ``awaiting_payment`` reserves tracked stock and creates a payment link (sent to the customer);
    ``cancelled`` releases the stock and cancels pending links; ``refunded`` needs a money role. ``paid`` is not
    reached here but through a payment: ``payments.payment_record_manual`` or the provider's callback.
    """
    check_can_use_conversation(user, order.conversation)
    if to == Order.Status.PAID:
        raise ValidationError(
            gettext("An order becomes paid through a payment: use 'Record payment' (cash or transfer).")
        )
    if to == Order.Status.REFUNDED:
        check_can_handle_money(user, order.organization_id)
    with transaction.atomic():
        order = _locked(order)
        check_order_transition(order.status, to)
        outcomes: list[SendOutcome] = []
        if to == Order.Status.AWAITING_PAYMENT:
            if order.total <= 0:
                raise ValidationError(gettext("An order with a total of zero has nothing to pay."))
            _reserve_stock(order)
            from inbox.commerce.services.payments import payment_link_create

            payment = payment_link_create(order=order)
            _set_status(order, to, user=user, detail=note)
            order.save()
            if notify:
                outcomes.append(_notify(order, texts.payment_link(order, payment.url), "payment_link", user=user))
        else:
            if to == Order.Status.CANCELLED:
                _release_stock(order)
                order.payments.filter(status=Payment.Status.PENDING).update(status=Payment.Status.CANCELLED)
            _set_status(order, to, user=user, detail=note)
            order.save()
            message = {
                Order.Status.FULFILLED: (texts.shipped_notice, "shipped"),
                Order.Status.CANCELLED: (texts.order_cancelled, "cancelled"),
                Order.Status.REFUNDED: (texts.order_refunded, "refunded"),
            }.get(to)
            if notify and message:
                outcomes.append(_notify(order, message[0](order), message[1], user=user))
        events.publish("order.updated", organization_id=order.organization_id, order=order_as_event_dict(order))
    return OrderResult(order, outcomes)


def order_mark_paid(*, order: Order, user: Any = None, label: str = "", detail: str = "") -> OrderResult:
    """Internal: the order's payment succeeded (callback or manual record, which checked permissions). Publishes
    ``order.paid`` (instead of ``order.updated`` for this change) and sends the confirmation. Caller holds the
    transaction and the order lock."""
    _set_status(order, Order.Status.PAID, user=user, label=label, detail=detail)
    order.save()
    outcome = _notify(order, texts.payment_confirmation(order), "payment_confirmation", user=user)
    payload = order_as_event_dict(order)
    # value/currency at the top level too, as the signals outbox reads them; never line text.
    events.publish(
        "order.paid",
        organization_id=order.organization_id,
        order=payload,
        value=payload["total"],
        currency=order.currency,
        conversation_id=order.conversation_id,
    )
    return OrderResult(order, [outcome])


def order_send_summary(*, user: Any, order: Order) -> SendOutcome:
    """Send the order's summary (lines, discount, shipping, total) to the customer now."""
    check_can_use_conversation(user, order.conversation)
    with transaction.atomic():
        order = _locked(order)
        if order.status in (Order.Status.CANCELLED, Order.Status.REFUNDED):
            raise ValidationError(
                gettext("Order #%(number)s is %(value)s: nothing to send.")
                % {"number": order.number, "value": order.get_status_display().lower()}
            )
        return _notify(order, texts.order_summary(order), "order_summary", user=user)
