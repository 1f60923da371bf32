"""The payment provider interface. Only provider modules know a provider's JSON and signature scheme.

A backend is a class with a ``name`` and the three methods below, selected by a dotted path in settings (like
Django's session backends). ``fake.FakePaymentProvider`` is a real backend whose "provider" is a page in
Switchboard: tests and the sandbox use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, Protocol


class InvalidSignature(Exception):
    """The callback is not from the provider (bad or missing signature, or too old). Answer 401, store nothing."""


class MalformedCallback(ValueError):
    """Signed, but not a callback this backend understands. Answer 400 with the reason."""


@dataclass(frozen=True)
class PaymentLink:
    reference: str  # the provider's id for this payment: how its callbacks find the Payment row
    url: str  # where the customer pays


@dataclass(frozen=True)
class PaymentNotification:
    event_id: str  # unique per callback delivery attempt's *event* (redeliveries repeat it): the idempotency key
    reference: str
    outcome: Literal["succeeded", "failed"]
    amount: Decimal
    currency: str
    reason: str = ""


class PaymentProvider(Protocol):
    name: str

    def create_link(self, *, order_number: int, amount: Decimal, currency: str, description: str) -> PaymentLink:
        """Ask the provider for a payment page for this amount. Raises ``ValidationError`` with a message for the
        agent when the provider refuses (unsupported currency, amount too small). No database writes."""
        ...

    def verify_callback(self, *, body: bytes, headers: Mapping[str, str]) -> None:
        """Check the callback's signature over the raw body (and its timestamp, where signed). Raises
        ``InvalidSignature``. ``headers`` keys are lower-case."""
        ...

    def parse_callback(self, body: bytes) -> PaymentNotification:
        """The verified body as a normalized notification, or ``MalformedCallback`` saying what is wrong."""
        ...
