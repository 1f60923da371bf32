"""``{% load l10n_money %}{{ amount|money:currency }}``: money in the active locale's number format.

The amount is quantized with the commerce helpers (inbox.commerce.money) to the currency's real minor unit
(IDR and VND show none, THB and USD two); grouping and decimal separators follow the language
(``IDR 150.000`` in Bahasa Indonesia, ``USD 1,234.50`` in English).
"""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils import numberformat
from django.utils.formats import get_format

from inbox.commerce.money import exponent, quantize

register = template.Library()


@register.filter
def money(amount: Decimal | int | str | None, currency: str) -> str:
    if amount is None or amount == "":
        return ""
    code = (currency or "").upper()
    value = quantize(Decimal(str(amount)), code)
    # Money is always grouped by thousands; some locales (vi) leave NUMBER_GROUPING at 0 for plain numbers.
    shown = numberformat.format(
        value,
        get_format("DECIMAL_SEPARATOR"),
        decimal_pos=exponent(code),
        grouping=get_format("NUMBER_GROUPING") or 3,
        thousand_sep=get_format("THOUSAND_SEPARATOR"),
        force_grouping=True,
    )
    return f"{code}\u00a0{shown}"
