"""WhatsAppAdapter's contract surface: kind, capabilities, signature check and handshake via the adapter."""

from __future__ import annotations

from datetime import timedelta

import pytest

from integrations.channels.base import (
    ChannelAdapter,
    ChannelSecrets,
    HandshakeRefused,
    InboundMessage,
    SignatureInvalid,
    WebhookRequest,
)
from integrations.meta.webhooks import sign
from integrations.whatsapp.adapter import WhatsAppAdapter

SECRETS = ChannelSecrets(account_id="106540352242922", app_secret="wa-secret", verify_token="wa-verify")


def test_kind_and_capabilities():
    adapter: ChannelAdapter = WhatsAppAdapter()
    assert adapter.kind == "whatsapp"
    caps = adapter.capabilities
    assert (caps.reply_window, caps.templates, caps.max_text_length, caps.sends_per_second) == (
        timedelta(hours=24), True, 4096, 80)


def test_signed_delivery_verifies_and_parses(load_payload):
    body = load_payload("whatsapp", "text")
    request = WebhookRequest(method="POST", body=body, headers={"x-hub-signature-256": sign(body, "wa-secret")})
    adapter = WhatsAppAdapter()
    adapter.verify_request(request, SECRETS)
    assert isinstance(adapter.parse(request.body)[0], InboundMessage)


@pytest.mark.parametrize("secret", ["other-secret", ""])
def test_delivery_signed_with_another_secret_is_refused(load_payload, secret):
    body = load_payload("whatsapp", "text")
    request = WebhookRequest(method="POST", body=body, headers={"x-hub-signature-256": sign(body, secret)})
    with pytest.raises(SignatureInvalid):
        WhatsAppAdapter().verify_request(request, SECRETS)


def test_unsigned_delivery_is_refused(load_payload):
    request = WebhookRequest(method="POST", body=load_payload("whatsapp", "text"), headers={})
    with pytest.raises(SignatureInvalid, match="missing"):
        WhatsAppAdapter().verify_request(request, SECRETS)


def test_handshake():
    query = {"hub.mode": "subscribe", "hub.verify_token": "wa-verify", "hub.challenge": "42"}
    assert WhatsAppAdapter().verification_challenge(WebhookRequest("GET", b"", {}, query), SECRETS) == "42"
    with pytest.raises(HandshakeRefused):
        WhatsAppAdapter().verification_challenge(
            WebhookRequest("GET", b"", {}, {**query, "hub.verify_token": "guess"}), SECRETS)
