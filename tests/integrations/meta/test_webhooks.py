"""X-Hub-Signature-256 verification and the hub.* GET handshake shared by WhatsApp and Messenger."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from integrations.channels.base import HandshakeRefused, SignatureInvalid, WebhookRequest
from integrations.meta.webhooks import answer_handshake, sign, verify_signature

SECRET = "app-secret-123"
BODY = b'{"object":"page","entry":[]}'


def post(body: bytes, signature: str | None) -> WebhookRequest:
    headers = {} if signature is None else {"x-hub-signature-256": signature}
    return WebhookRequest(method="POST", body=body, headers=headers)


def test_sign_is_the_documented_hmac():
    expected = "sha256=" + hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
    assert sign(BODY, SECRET) == expected


def test_valid_signature_passes():
    verify_signature(post(BODY, sign(BODY, SECRET)), SECRET)


def test_uppercase_hex_is_accepted():
    header = sign(BODY, SECRET)
    verify_signature(post(BODY, "sha256=" + header[7:].upper()), SECRET)


def test_tampered_body_is_refused():
    with pytest.raises(SignatureInvalid, match="does not match"):
        verify_signature(post(BODY.replace(b"[]", b"[1]"), sign(BODY, SECRET)), SECRET)


def test_wrong_secret_is_refused():
    with pytest.raises(SignatureInvalid, match="does not match"):
        verify_signature(post(BODY, sign(BODY, "another-secret")), SECRET)


def test_missing_header_is_refused():
    with pytest.raises(SignatureInvalid, match="missing X-Hub-Signature-256"):
        verify_signature(post(BODY, None), SECRET)


@pytest.mark.parametrize("header", ["sha1=" + "a" * 40, "a" * 64, "sha256=xyz", "sha256=" + "g" * 64, "sha256="])
def test_malformed_header_is_refused(header):
    with pytest.raises(SignatureInvalid, match="malformed"):
        verify_signature(post(BODY, header), SECRET)


def test_empty_app_secret_never_verifies():
    with pytest.raises(SignatureInvalid, match="no app secret"):
        verify_signature(post(BODY, sign(BODY, "")), "")


def get(**query: str) -> WebhookRequest:
    return WebhookRequest(method="GET", body=b"", headers={}, query=query)


def test_handshake_answers_the_challenge():
    request = get(**{"hub.mode": "subscribe", "hub.verify_token": "tok", "hub.challenge": "1158201444"})
    assert answer_handshake(request, "tok") == "1158201444"


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ({"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"}, "does not match"),
        ({"hub.mode": "unsubscribe", "hub.verify_token": "tok", "hub.challenge": "1"}, "hub.mode"),
        ({"hub.verify_token": "tok", "hub.challenge": "1"}, "hub.mode"),
        ({"hub.mode": "subscribe", "hub.challenge": "1"}, "does not match"),
        ({"hub.mode": "subscribe", "hub.verify_token": "tok"}, "challenge"),
    ],
)
def test_handshake_refusals(query, reason):
    with pytest.raises(HandshakeRefused, match=reason):
        answer_handshake(get(**query), "tok")


def test_handshake_without_configured_token_is_refused():
    with pytest.raises(HandshakeRefused, match="no verify token"):
        answer_handshake(get(**{"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}), "")
