"""Event payloads: the contract the signals and CRM subscribers rely on. Change only by adding keys.

Order events never carry line items or their text: ``order.paid`` goes to TikTok as value and currency only.
"""

from __future__ import annotations

from typing import Any

from inbox.commerce.models import Order, Reservation
from inbox.commerce.money import quantize


def order_as_event_dict(order: Order) -> dict[str, Any]:
    return {
        "id": order.pk,
        "number": order.number,
        "status": order.status,
        "currency": order.currency,
        "total": str(quantize(order.total, order.currency)),
        "contact_id": order.contact_id,
        "conversation_id": order.conversation_id,
        "channel_id": order.channel_id,
        "created_at": order.created_at.isoformat(),
        "paid_at": order.paid_at.isoformat() if order.paid_at else None,
    }


def reservation_as_event_dict(reservation: Reservation) -> dict[str, Any]:
    return {
        "id": reservation.pk,
        "resource_id": reservation.resource_id,
        "resource_name": reservation.resource.name,
        "status": reservation.status,
        "starts_at": reservation.starts_at.isoformat(),
        "ends_at": reservation.ends_at.isoformat(),
        "party_size": reservation.party_size,
        "contact_id": reservation.contact_id,
        "conversation_id": reservation.conversation_id,
        "channel_id": reservation.channel_id,
    }
