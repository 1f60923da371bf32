"""Money as ``Decimal`` with currency-correct quantization. Never float.

Every amount stored or shown is quantized to its currency's minor unit (JPY/IDR/VND 0 decimals, USD 2, KWD 3),
rounding half up (what a shop's receipt does). Totals are sums of already-quantized parts, so the total a
customer sees always equals the sum of the lines they see.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext, ngettext

# ISO 4217 active codes (2024). Kept inline: a small, stable list, and no dependency for it.
ISO_4217 = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF
    CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG
    HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA
    MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD
    RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX
    USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL
    """.split()  # noqa: SIM905 - a word list reads best as words
)

# Minor units where they are not 2. IDR and VND are officially 2 and 0 but are priced in whole units in practice
# (no coins below 100 IDR circulate): shops, and the payment providers they use, charge whole rupiah.
_EXPONENTS = {
    **dict.fromkeys("BIF CLP DJF GNF IDR ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF".split(), 0),  # noqa: SIM905
    **dict.fromkeys("BHD IQD JOD KWD LYD OMR TND".split(), 3),  # noqa: SIM905
}


def validate_currency(code: str) -> str:
    """The upper-case ISO 4217 code, or ``ValidationError`` naming the bad value."""
    normalized = (code or "").strip().upper()
    if normalized not in ISO_4217:
        raise ValidationError(
            gettext("%(code)s is not an ISO 4217 currency code (for example USD, EUR, IDR, JPY).")
            % {"code": repr(code)}
        )
    return normalized


def exponent(currency: str) -> int:
    return _EXPONENTS.get(currency.upper(), 2)


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-exponent(currency))


def quantize(amount: Decimal | int | str, currency: str) -> Decimal:
    """``amount`` rounded half up to the currency's minor unit. Refuses floats: they cannot hold money exactly."""
    if isinstance(amount, float):
        raise TypeError("money is never a float; pass a Decimal, an int or a string")
    return Decimal(amount).quantize(quantum(currency), rounding=ROUND_HALF_UP)


def parse_amount(value: object, currency: str, *, field: str = "amount", allow_negative: bool = False) -> Decimal:
    """Parse user input (``"12.50"``, ``12``) into a quantized Decimal, with a clear error for anything else.

    More decimals than the currency has are an error rather than a silent rounding: ``"10.5"`` JPY is a typo.
    """
    if isinstance(value, float):
        value = repr(value)
    try:
        amount = Decimal(str(value).strip().replace(",", "")) if value not in (None, "") else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise ValidationError(gettext("%(field)s: %(value)s is not a number.") % {"field": field, "value": repr(value)})
    if amount < 0 and not allow_negative:
        raise ValidationError(gettext("%(field)s: cannot be negative.") % {"field": field})
    places = exponent(currency)
    if amount != amount.quantize(quantum(currency), rounding=ROUND_HALF_UP):
        raise ValidationError(
            ngettext(
                "%(field)s: %(currency)s amounts have %(places)s decimal place (%(value)s).",
                "%(field)s: %(currency)s amounts have %(places)s decimal places (%(value)s).",
                places,
            )
            % {"field": field, "currency": currency, "places": places, "value": repr(value)}
        )
    if abs(amount) >= Decimal(10) ** 12:
        raise ValidationError(gettext("%(field)s: %(value)s is too large.") % {"field": field, "value": repr(value)})
    return quantize(amount, currency)


def format_money(amount: Decimal, currency: str) -> str:
    """``"IDR 150,000"``, ``"USD 12.50"``: the code first, readable in every channel."""
    places = exponent(currency)
    return f"{currency} {quantize(amount, currency):,.{places}f}"


@dataclass(frozen=True)
class LineAmount:
    unit_price: Decimal
    quantity: int


@dataclass(frozen=True)
class Totals:
    line_totals: tuple[Decimal, ...]
    subtotal: Decimal
    discount: Decimal
    shipping: Decimal
    total: Decimal


def compute_totals(
    *,
    currency: str,
    lines: Iterable[LineAmount],
    discount_percent: Decimal = Decimal(0),
    discount_amount: Decimal = Decimal(0),
    shipping: Decimal = Decimal(0),
) -> Totals:
    """Order totals from its lines: each line quantized, the subtotal their exact sum, the discount (a percent of
    the subtotal, quantized, plus a fixed amount) capped at the subtotal, then shipping. Never negative."""
    line_totals = tuple(quantize(line.unit_price * line.quantity, currency) for line in lines)
    subtotal = sum(line_totals, Decimal(0))
    subtotal = quantize(subtotal, currency)
    discount = quantize(subtotal * discount_percent / 100, currency) + quantize(discount_amount, currency)
    discount = min(discount, subtotal)
    shipping = quantize(shipping, currency)
    return Totals(line_totals, subtotal, discount, shipping, subtotal - discount + shipping)
