"""Signing outbound webhooks: HMAC-SHA256 over the timestamp and the raw body.

Header ``Switchboard-Signature: t=<unix seconds>,v1=<hex>`` where
``v1 = hex(HMAC_SHA256(key=secret, msg=f"{t}.{raw_body}"))``, with ``Switchboard-Event`` (the event type) and
``Switchboard-Delivery`` (the event id, stable across retries and redeliveries: receivers deduplicate on it).
A receiver recomputes the signature over the exact bytes it received, compares in constant time, and rejects a
``t`` more than five minutes away from its clock (replays).

One scheme for all of Switchboard's outbound webhooks: CRM endpoints are subscriptions of the connections app's
delivery mechanism, so a receiver written for an authorized app's webhooks works for these too.
"""

from __future__ import annotations

import time

from integrations.connections.services.outbound_webhooks import new_secret, verify_signature
from integrations.connections.services.outbound_webhooks import sign as _sign

SIGNATURE_HEADER = "Switchboard-Signature"
EVENT_HEADER = "Switchboard-Event"
DELIVERY_HEADER = "Switchboard-Delivery"
TOLERANCE_SECONDS = 300
__all__ = ["DELIVERY_HEADER", "EVENT_HEADER", "SIGNATURE_HEADER", "VERIFY_SNIPPET", "new_secret", "sign", "verify"]


def sign(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    """The ``Switchboard-Signature`` header value for ``body``."""
    return _sign(secret, int(time.time()) if timestamp is None else timestamp, body)


def verify(
    secret: str, body: bytes, header: str, *, tolerance: int = TOLERANCE_SECONDS, now: float | None = None
) -> bool:
    """What a receiver does (and what our tests do): parse, check freshness, compare in constant time."""
    return verify_signature(secret, header or "", body, tolerance=tolerance, now=now)


#: The verification snippet shown on the webhooks page (Python; the same steps work in any language).
VERIFY_SNIPPET = '''import hashlib, hmac, time

def verify(secret: str, raw_body: bytes, header: str, tolerance: int = 300) -> bool:
    """header: the Switchboard-Signature request header, e.g. "t=1767225600,v1=5f2b..."."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    t = int(parts.get("t", "0"))
    if abs(time.time() - t) > tolerance:
        return False  # too old (or from the future): a replay
    expected = hmac.new(secret.encode(), f"{t}.".encode() + raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts.get("v1", ""))
'''
