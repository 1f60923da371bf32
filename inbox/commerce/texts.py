"""What the customer reads: plain text that works in every channel (no markup, short lines)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import reverse

from inbox.commerce.models import Order, Reservation
from inbox.commerce.money import format_money


def order_summary(order: Order) -> str:
    lines = [f"Order #{order.number}"]
    for line in order.lines.all():
        lines.append(f"{line.quantity} x {line.name}: {format_money(line.line_total, order.currency)}")
    if order.discount_total:
        lines.append(f"Discount: -{format_money(order.discount_total, order.currency)}")
    if order.shipping_fee:
        lines.append(f"Shipping: {format_money(order.shipping_fee, order.currency)}")
    lines.append(f"Total: {format_money(order.total, order.currency)}")
    if order.delivery == Order.Delivery.SHIPPING and order.shipping_address:
        lines.append(f"Ship to: {order.shipping_name} {order.shipping_address}".strip())
    elif order.delivery == Order.Delivery.PICKUP and order.pickup_location:
        lines.append(f"Pickup at: {order.pickup_location}")
    return "\n".join(lines)


def payment_link(order: Order, url: str) -> str:
    return f"To pay order #{order.number} ({format_money(order.total, order.currency)}), open: {url}"


def payment_confirmation(order: Order) -> str:
    return f"Payment received for order #{order.number} ({format_money(order.total, order.currency)}). Thank you!"


def shipped_notice(order: Order) -> str:
    if order.delivery == Order.Delivery.PICKUP:
        where = f" at {order.pickup_location}" if order.pickup_location else ""
        return f"Order #{order.number} is ready for pickup{where}."
    return f"Order #{order.number} is on its way."


def order_cancelled(order: Order) -> str:
    return f"Order #{order.number} has been cancelled."


def order_refunded(order: Order) -> str:
    return f"Order #{order.number} has been refunded ({format_money(order.total, order.currency)})."


def _when(reservation: Reservation) -> str:
    local = reservation.starts_at.astimezone(ZoneInfo(reservation.resource.time_zone))
    end = reservation.ends_at.astimezone(ZoneInfo(reservation.resource.time_zone))
    return f"{local:%a %d %b %Y, %H:%M}-{end:%H:%M} ({reservation.resource.time_zone})"


def ics_url(reservation: Reservation) -> str:
    path = reverse("commerce:reservation-ics-public", args=[reservation.public_token])
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


def reservation_confirmed(reservation: Reservation) -> str:
    people = f" for {reservation.party_size}" if reservation.party_size > 1 else ""
    return (
        f"Your booking is confirmed: {reservation.resource.name}{people}, {_when(reservation)}.\n"
        f"Add it to your calendar: {ics_url(reservation)}"
    )


def reservation_cancelled(reservation: Reservation) -> str:
    return f"Your booking of {reservation.resource.name} on {_when(reservation)} has been cancelled."


def reservation_reminder(reservation: Reservation) -> str:
    return f"Reminder: your booking of {reservation.resource.name} is on {_when(reservation)}. See you soon!"


def slots_proposal(resource_name: str, labels: list[str]) -> str:
    options = "\n".join(f"{i}. {label}" for i, label in enumerate(labels, 1))
    return f"Free times for {resource_name}:\n{options}\nReply with the number that suits you."
