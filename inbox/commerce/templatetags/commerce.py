"""Template filters for commerce pages: money shown in its currency's minor unit."""

from __future__ import annotations

from decimal import Decimal

from django import template

from inbox.commerce.money import format_money, quantize

register = template.Library()


@register.filter
def money(amount: Decimal | None, currency: str) -> str:
    """``{{ order.total|money:order.currency }}`` -> ``IDR 150,000``."""
    if amount is None:
        return ""
    return format_money(amount, currency)


@register.filter
def amount(value: Decimal | None, currency: str) -> str:
    """The plain quantized number (for inputs): ``150000``, ``12.50``."""
    return "" if value is None else str(quantize(value, currency))
