"""Meta webhook authenticity: the ``X-Hub-Signature-256`` header and the ``hub.*`` GET handshake.

Meta signs every delivery with the app secret: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw
body)>``, and subscribes a callback URL with ``GET ?hub.mode=subscribe&hub.verify_token=...&hub.challenge=...``,
expecting the challenge echoed back. WhatsApp and Messenger share both.
Documentation: https://developers.facebook.com/docs/graph-api/webhooks/getting-started
(sections "Verification Requests" and "Event Notifications / Validating Payloads").
"""

from __future__ import annotations

import hashlib
import hmac

from integrations.channels.base import HandshakeRefused, SignatureInvalid, WebhookRequest

SIGNATURE_HEADER = "X-Hub-Signature-256"
_PREFIX = "sha256="
_HEX = frozenset("0123456789abcdefABCDEF")


def sign(body: bytes, app_secret: str) -> str:
    """Return the header value Meta would send for ``body`` (tests and the sandbox use it)."""
    return _PREFIX + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(request: WebhookRequest, app_secret: str) -> None:
    """Raise :class:`SignatureInvalid` unless ``request`` carries a valid signature of its raw body."""
    if not app_secret:
        # An empty key would make every body "verifiable" by anyone who guesses it: refuse, loudly.
        raise SignatureInvalid("the channel has no app secret configured, so no delivery can be verified")
    value = request.header(SIGNATURE_HEADER).strip()
    if not value:
        raise SignatureInvalid(f"missing {SIGNATURE_HEADER} header")
    if not value.startswith(_PREFIX):
        raise SignatureInvalid(f"malformed {SIGNATURE_HEADER} header: expected 'sha256=<hex>'")
    received = value[len(_PREFIX):]
    if len(received) != 64 or not set(received) <= _HEX:
        raise SignatureInvalid(f"malformed {SIGNATURE_HEADER} header: expected 64 hex characters after 'sha256='")
    expected = hmac.new(app_secret.encode(), request.body, hashlib.sha256).hexdigest()
    # Constant-time comparison: the time taken must not tell an attacker how many characters matched.
    if not hmac.compare_digest(expected.encode(), received.lower().encode()):
        raise SignatureInvalid(f"{SIGNATURE_HEADER} does not match the body (wrong app secret or altered body)")


def answer_handshake(request: WebhookRequest, verify_token: str) -> str:
    """Return ``hub.challenge`` when the GET handshake subscribes with our verify token, else refuse."""
    if not verify_token:
        raise HandshakeRefused("the channel has no verify token configured")
    mode = request.query.get("hub.mode", "")
    token = request.query.get("hub.verify_token", "")
    challenge = request.query.get("hub.challenge", "")
    if mode != "subscribe":
        raise HandshakeRefused(f"hub.mode must be 'subscribe', got {mode[:40]!r}")
    if not hmac.compare_digest(token.encode(), verify_token.encode()):
        raise HandshakeRefused("hub.verify_token does not match this channel's verify token")
    if not challenge:
        raise HandshakeRefused("hub.challenge is missing")
    return challenge
