"""Money arithmetic: totals are sums of quantized lines in the currency's minor unit, never floats."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from inbox.commerce import money

pytestmark = pytest.mark.core

CURRENCIES = st.sampled_from(["USD", "EUR", "IDR", "JPY", "VND", "KWD"])
PRICES = st.decimals(min_value=0, max_value=Decimal("99999.999"), places=3, allow_nan=False, allow_infinity=False)
LINES = st.lists(st.tuples(PRICES, st.integers(min_value=1, max_value=500)), min_size=1, max_size=12)


@given(currency=CURRENCIES, lines=LINES, percent=st.decimals(min_value=0, max_value=100, places=2),
       fixed=PRICES, shipping=PRICES)
def test_total_is_the_sum_of_quantized_parts(currency, lines, percent, fixed, shipping):
    totals = money.compute_totals(
        currency=currency,
        lines=[money.LineAmount(price, qty) for price, qty in lines],
        discount_percent=percent,
        discount_amount=fixed,
        shipping=shipping,
    )
    places = money.exponent(currency)
    quantized_lines = [money.quantize(price * qty, currency) for price, qty in lines]
    assert list(totals.line_totals) == quantized_lines
    assert totals.subtotal == sum(quantized_lines)
    assert totals.total == totals.subtotal - totals.discount + totals.shipping
    assert Decimal(0) <= totals.discount <= totals.subtotal
    assert totals.total >= 0
    for value in (totals.subtotal, totals.discount, totals.shipping, totals.total, *totals.line_totals):
        assert isinstance(value, Decimal)
        assert -value.as_tuple().exponent == places


@pytest.mark.parametrize(
    ("currency", "places"), [("USD", 2), ("EUR", 2), ("JPY", 0), ("IDR", 0), ("VND", 0), ("KWD", 3)]
)
def test_minor_units(currency, places):
    assert money.exponent(currency) == places
    assert money.quantize(Decimal("10.5"), currency) == Decimal("10.5").quantize(Decimal(1).scaleb(-places),
                                                                                 rounding="ROUND_HALF_UP")


def test_rounding_is_half_up_per_line():
    # 3 x 0.335 = 1.005 -> 1.01 (half up), not banker's 1.00
    totals = money.compute_totals(currency="USD", lines=[money.LineAmount(Decimal("0.335"), 3)])
    assert totals.total == Decimal("1.01")
    assert money.compute_totals(currency="JPY", lines=[money.LineAmount(Decimal("99.5"), 1)]).total == Decimal(100)


def test_floats_are_refused():
    with pytest.raises(TypeError):
        money.quantize(0.1, "USD")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "currency", "message"),
    [("abc", "USD", "not a number"), ("10.5", "JPY", "0 decimal places"), ("1.001", "USD", "2 decimal places"),
     ("-1", "USD", "cannot be negative"), ("", "USD", "not a number"), ("NaN", "USD", "not a number"),
     ("1e20", "USD", "too large")],
)
def test_parse_amount_says_what_is_wrong(value, currency, message):
    with pytest.raises(ValidationError, match=message):
        money.parse_amount(value, currency)


def test_parse_amount_accepts_thousands_separators_and_ints():
    assert money.parse_amount("150,000", "IDR") == Decimal(150000)
    assert money.parse_amount(12, "USD") == Decimal("12.00")


def test_currency_codes():
    assert money.validate_currency(" idr ") == "IDR"
    with pytest.raises(ValidationError, match="ISO 4217"):
        money.validate_currency("XXX1")
    assert money.format_money(Decimal("150000"), "IDR") == "IDR 150,000"
    assert money.format_money(Decimal("12.5"), "USD") == "USD 12.50"
