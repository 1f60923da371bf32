"""Payments: links from the configured provider, its signed callbacks (idempotent), and manual records.

Idempotency of callbacks, in three layers: the provider's event id is stored under a unique constraint (a
redelivered callback is acknowledged and ignored), the payment row is locked and its status checked before any
change, and at most one payment per order can succeed (a partial unique constraint).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from inbox.commerce import money
from inbox.commerce.models import Order, OrderEvent, Payment, PaymentCallback
from inbox.commerce.payment_providers import get_provider
from inbox.commerce.payment_providers.base import PaymentNotification
from inbox.commerce.permissions import check_can_handle_money, check_can_use_conversation
from inbox.commerce.services.orders import OrderResult, _record, order_mark_paid

logger = logging.getLogger(__name__)

MANUAL_METHODS = (Payment.Method.CASH, Payment.Method.BANK_TRANSFER)


def payment_link_create(*, order: Order) -> Payment:
    """Internal (the order is locked by the caller): a pending payment for the order's total via the provider."""
    provider = get_provider()
    link = provider.create_link(
        order_number=order.number, amount=order.total, currency=order.currency, description=f"Order #{order.number}"
    )
    payment = Payment.objects.create(
        order=order,
        method=Payment.Method.LINK,
        provider=provider.name,
        reference=link.reference,
        url=link.url,
        amount=order.total,
        currency=order.currency,
    )
    _record(
        order,
        kind=OrderEvent.Kind.PAYMENT,
        label=gettext("payment provider %(name)s") % {"name": provider.name},
        detail=f"payment link created ({money.format_money(order.total, order.currency)})",
    )
    return payment


def payment_record_manual(*, user: Any, order: Order, method: str, reference: str = "", note: str = "") -> OrderResult:
    """Mark an awaiting-payment order paid by cash or bank transfer. Needs a supervisor, admin or owner; who,
    when, how and the reference are kept on the payment and in the order's history."""
    check_can_use_conversation(user, order.conversation)
    check_can_handle_money(user, order.organization_id)
    if method not in MANUAL_METHODS:
        raise ValidationError(gettext("method must be one of: %(value)s.") % {"value": ", ".join(MANUAL_METHODS)})
    with transaction.atomic():
        order = Order.objects.select_for_update(of=("self",)).select_related("conversation").get(pk=order.pk)
        if order.status != Order.Status.AWAITING_PAYMENT:
            from inbox.commerce.transitions import check_order_transition

            check_order_transition(order.status, Order.Status.PAID)
        order.payments.filter(status=Payment.Status.PENDING).update(status=Payment.Status.CANCELLED)
        label = dict(Payment.Method.choices)[method]
        Payment.objects.create(
            order=order,
            method=method,
            provider="manual",
            reference=f"manual-{order.pk}-{timezone.now().timestamp():.6f}",
            amount=order.total,
            currency=order.currency,
            status=Payment.Status.SUCCEEDED,
            recorded_by=user,
            note=note[:300],
            completed_at=timezone.now(),
        )
        detail = f"{label} recorded by {user.get_username()}" + (f", ref {reference}" if reference else "")
        detail += f": {note}" if note else ""
        _record(order, kind=OrderEvent.Kind.PAYMENT, user=user, detail=detail)
        return order_mark_paid(order=order, user=user, detail=detail)


@dataclass(frozen=True)
class CallbackResult:
    outcome: str  # "paid", "failed", "duplicate", "unknown_payment", "mismatch", "ignored"
    detail: str = ""


def payment_callback_receive(*, provider_name: str, body: bytes, headers: Mapping[str, str]) -> CallbackResult:
    """Handle a provider callback: verify the signature on the raw body (``InvalidSignature`` otherwise), parse it
    (``MalformedCallback``), then apply it once. Safe to receive any number of times, concurrently."""
    provider = get_provider()
    if provider.name != provider_name:
        raise LookupError(f"payment provider {provider_name!r} is not configured")
    provider.verify_callback(body=body, headers={k.lower(): v for k, v in headers.items()})
    notification = provider.parse_callback(body)
    try:
        with transaction.atomic():
            return _apply(provider.name, notification)
    except IntegrityError:
        # Another delivery of the same event committed first (unique event id): already applied.
        return CallbackResult("duplicate", "this callback was already processed")


def _apply(provider: str, notification: PaymentNotification) -> CallbackResult:
    callback = PaymentCallback.objects.create(
        provider=provider, event_id=notification.event_id, outcome=notification.outcome
    )  # IntegrityError here = a redelivery: the caller answers "duplicate"
    payment = (
        Payment.objects.select_for_update(of=("self",))
        .filter(provider=provider, reference=notification.reference)
        .first()
    )
    if payment is None:
        logger.warning("payment callback for an unknown reference", extra={"reference": notification.reference})
        return CallbackResult("unknown_payment", "no payment with this reference")
    callback.payment = payment
    callback.save(update_fields=["payment"])
    order = Order.objects.select_for_update(of=("self",)).select_related("conversation").get(pk=payment.order_id)
    label = f"payment provider {provider}"
    if payment.status == Payment.Status.SUCCEEDED:
        return CallbackResult("duplicate", "payment already succeeded")
    if notification.outcome == "failed":
        if payment.status == Payment.Status.PENDING:
            payment.status = Payment.Status.FAILED
            payment.failure_reason = notification.reason or "declined"
            payment.completed_at = timezone.now()
            payment.save(update_fields=["status", "failure_reason", "completed_at"])
            _record(
                order, kind=OrderEvent.Kind.PAYMENT, label=label, detail=f"payment failed: {payment.failure_reason}"
            )
        return CallbackResult("failed", payment.failure_reason)
    amount = money.quantize(notification.amount, payment.currency)
    if notification.currency != payment.currency or amount != payment.amount:
        _record(
            order,
            kind=OrderEvent.Kind.PAYMENT,
            label=label,
            detail=f"callback amount {notification.currency} {amount} does not match the link; not applied",
        )
        return CallbackResult("mismatch", "amount or currency does not match the payment")
    payment.status = Payment.Status.SUCCEEDED
    payment.completed_at = timezone.now()
    payment.save(update_fields=["status", "completed_at"])
    detail = f"paid {money.format_money(amount, payment.currency)} via {provider} ({payment.reference})"
    if order.status != Order.Status.AWAITING_PAYMENT:
        # The customer paid a link of an order the agent cancelled meanwhile: keep the money visible for a refund.
        _record(
            order,
            kind=OrderEvent.Kind.PAYMENT,
            label=label,
            detail=f"{detail} while the order was {order.get_status_display().lower()}: refund needed",
        )
        return CallbackResult("ignored", "order is not awaiting payment; recorded for a refund")
    _record(order, kind=OrderEvent.Kind.PAYMENT, label=label, detail=detail)
    order_mark_paid(order=order, label=label, detail=detail)
    return CallbackResult("paid", detail)
