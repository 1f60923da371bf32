"""Conditions for the inbox filter language: "has order", "has open order", "has reservation".

Each condition is a builder ``(value, context) -> Q`` over ``Conversation`` (``value`` true/false, validated as a
boolean by the registry) built on ``Exists`` subqueries: no joins, so no duplicate rows and no DISTINCT. The
conversations are already scoped by the permission policy, so the context is not needed. Registered with
``inbox.filters.register_condition`` from ``CommerceConfig.ready()``.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db.models import Exists, OuterRef, Q

logger = logging.getLogger(__name__)


def _exists(queryset: Any, value: Any) -> Q:
    condition = Q(Exists(queryset.filter(conversation=OuterRef("pk"))))
    return condition if _truthy(value) else ~condition


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in {"0", "false", "no", "off", ""}
    return bool(value) if value is not None else True


def has_order(value: Any = True, context: Any = None) -> Q:
    from inbox.commerce.models import Order

    return _exists(Order.objects.all(), value)


def has_open_order(value: Any = True, context: Any = None) -> Q:
    from inbox.commerce.models import Order

    return _exists(Order.objects.filter(status__in=Order.OPEN_STATUSES), value)


def has_reservation(value: Any = True, context: Any = None) -> Q:
    """Any reservation that is held or confirmed (a live booking); past and cancelled ones do not count."""
    from inbox.commerce.models import Reservation

    return _exists(Reservation.objects.filter(status__in=("held", "confirmed")), value)


CONDITIONS = {"has_order": has_order, "has_open_order": has_open_order, "has_reservation": has_reservation}


def register() -> bool:
    """Register the conditions with the inbox filter registry if it exists. Returns whether it did."""
    try:
        from inbox.filters import register_condition  # type: ignore[attr-defined]
    except ImportError:
        return False
    for name, function in CONDITIONS.items():
        register_condition(name, function)
    return True
