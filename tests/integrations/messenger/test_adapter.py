"""MessengerAdapter's contract surface: kind, capabilities, signature check and handshake via the adapter."""

from __future__ import annotations

from datetime import timedelta

import pytest

from integrations.channels.base import (
    ChannelAdapter,
    ChannelSecrets,
    HandshakeRefused,
    SignatureInvalid,
    WebhookRequest,
)
from integrations.messenger.adapter import MessengerAdapter
from integrations.meta.webhooks import sign

SECRETS = ChannelSecrets(account_id="682498302938465", app_secret="page-app-secret", verify_token="ms-verify")


def test_kind_and_capabilities():
    adapter: ChannelAdapter = MessengerAdapter()
    assert adapter.kind == "messenger"
    caps = adapter.capabilities
    assert (caps.reply_window, caps.extended_window, caps.max_text_length, caps.templates) == (
        timedelta(hours=24), timedelta(days=7), 2000, False)


def test_signed_delivery_verifies(load_payload):
    body = load_payload("messenger", "text")
    MessengerAdapter().verify_request(
        WebhookRequest("POST", body, {"x-hub-signature-256": sign(body, "page-app-secret")}), SECRETS)


def test_tampered_delivery_is_refused(load_payload):
    body = load_payload("messenger", "text")
    header = {"x-hub-signature-256": sign(body, "page-app-secret")}
    with pytest.raises(SignatureInvalid, match="does not match"):
        MessengerAdapter().verify_request(WebhookRequest("POST", body.replace(b"hello", b"HELLO"), header), SECRETS)


def test_unsigned_delivery_is_refused(load_payload):
    with pytest.raises(SignatureInvalid, match="missing"):
        MessengerAdapter().verify_request(WebhookRequest("POST", load_payload("messenger", "text"), {}), SECRETS)


def test_handshake():
    query = {"hub.mode": "subscribe", "hub.verify_token": "ms-verify", "hub.challenge": "CHALLENGE_ACCEPTED"}
    adapter = MessengerAdapter()
    assert adapter.verification_challenge(WebhookRequest("GET", b"", {}, query), SECRETS) == "CHALLENGE_ACCEPTED"
    with pytest.raises(HandshakeRefused):
        adapter.verification_challenge(WebhookRequest("GET", b"", {}, {**query, "hub.mode": "x"}), SECRETS)
