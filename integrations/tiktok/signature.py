"""TikTok webhook signatures: the ``Tiktok-Signature`` header.

TikTok signs every webhook delivery with the app's client secret:
``Tiktok-Signature: t=<unix seconds>,s=<hex HMAC-SHA256 over "<t>.<raw body>">``.
Documentation: https://business-api.tiktok.com/portal/docs?id=1759978341579777 (webhook verification) and
https://developers.tiktok.com/doc/webhooks-verification .

The timestamp is signed too, so a replayed delivery can be refused once it is older than the tolerance
(``settings.TIKTOK_SIGNATURE_TOLERANCE_SECONDS``, five minutes by default).
"""

from __future__ import annotations

import hashlib
import hmac

from integrations.channels.base import SignatureInvalid

HEADER = "Tiktok-Signature"


def sign(body: bytes, secret: str, timestamp: int) -> str:
    """Return the ``Tiktok-Signature`` header value TikTok would send for ``body`` at ``timestamp``."""
    return f"t={timestamp},s={_digest(body, secret, str(timestamp))}"


def parse_header(value: str) -> tuple[str, str]:
    """Split a header into its timestamp text and hex signature, or raise :class:`SignatureInvalid`."""
    if not value or not value.strip():
        raise SignatureInvalid(f"missing {HEADER} header")
    parts: dict[str, str] = {}
    for item in value.split(","):
        key, sep, val = item.strip().partition("=")
        if not sep:
            raise SignatureInvalid(f"malformed {HEADER} header: {item.strip()[:40]!r} is not key=value")
        parts[key.strip()] = val.strip()
    timestamp, signature = parts.get("t", ""), parts.get("s", "")
    if not timestamp.isascii() or not timestamp.isdigit():
        raise SignatureInvalid(f"malformed {HEADER} header: t must be unix seconds")
    if len(signature) != 64 or any(c not in "0123456789abcdefABCDEF" for c in signature):
        raise SignatureInvalid(f"malformed {HEADER} header: s must be a 64-character hex HMAC-SHA256")
    return timestamp, signature.lower()


def verify(body: bytes, header: str, secret: str, *, now: float, tolerance: float) -> None:
    """Raise :class:`SignatureInvalid` unless ``header`` signs ``body`` with ``secret`` within ``tolerance``.

    The signature is checked before the clock so that an attacker learns nothing about our clock from a
    forged header; both must pass.
    """
    if not secret:
        # Fail closed: a channel without a secret must not accept unauthenticated deliveries.
        raise SignatureInvalid("no TikTok client secret is configured for this channel")
    timestamp, signature = parse_header(header)
    expected = _digest(body, secret, timestamp)
    if not hmac.compare_digest(expected, signature):
        raise SignatureInvalid("signature mismatch: the body was not signed with this app's client secret")
    skew = now - int(timestamp)
    if skew > tolerance:
        raise SignatureInvalid(f"stale signature: signed {int(skew)}s ago, more than {int(tolerance)}s")
    if -skew > tolerance:
        raise SignatureInvalid(f"signature from the future: {int(-skew)}s ahead, more than {int(tolerance)}s")


def _digest(body: bytes, secret: str, timestamp: str) -> str:
    # The timestamp text is used exactly as sent: TikTok signs the string, not a re-formatted number.
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
