"""The fake payment provider: a real backend whose checkout page lives in Switchboard (``/commerce/pay/...``).

The customer opens the link, presses "Pay" or "Decline", and the page posts a callback signed exactly as a real
provider would (HMAC-SHA256 of ``"<timestamp>.<body>"`` in ``X-Fake-Pay-Signature: t=<ts>,v1=<hex>``) to the
same endpoint an outside provider would call. Tests call that endpoint with bodies made by ``build_callback``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.urls import reverse

from inbox.commerce.payment_providers.base import (
    InvalidSignature,
    MalformedCallback,
    PaymentLink,
    PaymentNotification,
)

SIGNATURE_HEADER = "X-Fake-Pay-Signature"


def _secret() -> bytes:
    return settings.COMMERCE_FAKE_PAYMENT_SECRET.encode()


def sign(body: bytes, timestamp: int) -> str:
    digest = hmac.new(_secret(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def build_callback(
    *, reference: str, outcome: str, amount: Decimal | str, currency: str, event_id: str | None = None,
    reason: str = "", timestamp: int | None = None,
) -> tuple[bytes, dict[str, str]]:
    """A signed callback body and headers, as the provider sends it."""
    body = json.dumps(
        {
            "event_id": event_id or f"evt_{uuid.uuid4().hex}",
            "type": f"payment.{outcome}",
            "payment": {"reference": reference, "amount": str(amount), "currency": currency, "reason": reason},
        }
    ).encode()
    stamp = int(time.time()) if timestamp is None else timestamp
    return body, {SIGNATURE_HEADER: sign(body, stamp), "Content-Type": "application/json"}


class FakePaymentProvider:
    name = "fake"

    def create_link(self, *, order_number: int, amount: Decimal, currency: str, description: str) -> PaymentLink:
        reference = f"fake_{secrets.token_urlsafe(18)}"
        path = reverse("commerce:fake-checkout", args=[reference])
        return PaymentLink(reference=reference, url=settings.PUBLIC_BASE_URL.rstrip("/") + path)

    def verify_callback(self, *, body: bytes, headers: Mapping[str, str]) -> None:
        header = headers.get(SIGNATURE_HEADER.lower(), "")
        parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
        try:
            timestamp = int(parts.get("t", ""))
        except ValueError as exc:
            raise InvalidSignature("missing or malformed signature header") from exc
        if abs(time.time() - timestamp) > settings.COMMERCE_PAYMENT_CALLBACK_TOLERANCE_SECONDS:
            raise InvalidSignature("signature timestamp outside the tolerance")
        expected = sign(body, timestamp).split("v1=", 1)[1]
        if not hmac.compare_digest(expected, parts.get("v1", "")):
            raise InvalidSignature("signature does not match")

    def parse_callback(self, body: bytes) -> PaymentNotification:
        try:
            data = json.loads(body)
            payment = data["payment"]
            kind = data["type"]
            event_id = str(data["event_id"])
            reference = str(payment["reference"])
            amount = Decimal(str(payment["amount"]))
            currency = str(payment["currency"]).upper()
        except (ValueError, KeyError, TypeError, InvalidOperation) as exc:
            raise MalformedCallback(f"not a payment callback: {exc}") from exc
        outcomes = {"payment.succeeded": "succeeded", "payment.failed": "failed"}
        if kind not in outcomes:
            raise MalformedCallback(f"unknown callback type {kind!r}")
        if not event_id or not reference:
            raise MalformedCallback("event_id and reference are required")
        return PaymentNotification(
            event_id=event_id[:120], reference=reference[:120], outcome=outcomes[kind], amount=amount,
            currency=currency, reason=str(payment.get("reason") or "")[:300],
        )
