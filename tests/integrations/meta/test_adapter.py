"""Each Meta adapter's contract surface: kind and capabilities (its own), and the signature check and hub.*
handshake it inherits from GraphAdapter."""

from __future__ import annotations

from datetime import timedelta

import pytest

from integrations.channels.base import (
    Capabilities,
    ChannelAdapter,
    ChannelSecrets,
    HandshakeRefused,
    InboundMessage,
    SignatureInvalid,
    WebhookRequest,
)
from integrations.messenger.adapter import MessengerAdapter
from integrations.meta.adapter import GraphAdapter
from integrations.meta.webhooks import sign
from integrations.whatsapp.adapter import WhatsAppAdapter

APP_SECRET = "meta-app-secret"
VERIFY_TOKEN = "meta-verify"
SECRETS = ChannelSecrets(account_id="106540352242922", app_secret=APP_SECRET, verify_token=VERIFY_TOKEN)
HANDSHAKE = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "CHALLENGE_ACCEPTED"}

ADAPTERS: dict[str, ChannelAdapter] = {"whatsapp": WhatsAppAdapter(), "messenger": MessengerAdapter()}
CAPABILITIES = {
    # Templates are WhatsApp's only way to write after the 24-hour window; Cloud API allows 80 sends a second.
    "whatsapp": Capabilities(
        reply_window=timedelta(hours=24), max_text_length=4096, media=True, templates=True, sends_per_second=80,
    ),
    # Messenger's HUMAN_AGENT tag extends the window to 7 days; its Send API caps text at 2,000 characters.
    "messenger": Capabilities(
        reply_window=timedelta(hours=24), extended_window=timedelta(days=7), max_text_length=2000, media=True,
        templates=False,
    ),
}

pytestmark = pytest.mark.parametrize(("provider", "adapter"), list(ADAPTERS.items()), ids=list(ADAPTERS))


def signed(body: bytes, secret: str = APP_SECRET) -> WebhookRequest:
    return WebhookRequest("POST", body, {"x-hub-signature-256": sign(body, secret)})


def test_kind_and_capabilities(adapter, provider):
    assert adapter.kind == provider
    assert adapter.capabilities == CAPABILITIES[provider]
    assert isinstance(adapter, GraphAdapter)


def test_signed_delivery_verifies_and_parses(adapter, provider, load_payload):
    request = signed(load_payload(provider, "text"))
    adapter.verify_request(request, SECRETS)
    assert isinstance(adapter.parse(request.body)[0], InboundMessage)


def test_tampered_delivery_is_refused(adapter, provider, load_payload):
    body = load_payload(provider, "text")
    request = signed(body)
    # Still valid JSON, one byte more: only the signature can tell.
    tampered = WebhookRequest("POST", body.replace(b"{", b"{ ", 1), request.headers)
    with pytest.raises(SignatureInvalid, match="does not match"):
        adapter.verify_request(tampered, SECRETS)


@pytest.mark.parametrize("secret", ["other-secret", ""])
def test_delivery_signed_with_another_secret_is_refused(adapter, provider, load_payload, secret):
    with pytest.raises(SignatureInvalid):
        adapter.verify_request(signed(load_payload(provider, "text"), secret), SECRETS)


def test_unsigned_delivery_is_refused(adapter, provider, load_payload):
    with pytest.raises(SignatureInvalid, match="missing"):
        adapter.verify_request(WebhookRequest("POST", load_payload(provider, "text"), {}), SECRETS)


def test_handshake_echoes_the_challenge(adapter, provider):
    assert adapter.verification_challenge(WebhookRequest("GET", b"", {}, HANDSHAKE), SECRETS) == "CHALLENGE_ACCEPTED"


@pytest.mark.parametrize("wrong", [{"hub.mode": "x"}, {"hub.verify_token": "guess"}], ids=["mode", "token"])
def test_handshake_with_wrong_mode_or_token_is_refused(adapter, provider, wrong):
    with pytest.raises(HandshakeRefused):
        adapter.verification_challenge(WebhookRequest("GET", b"", {}, {**HANDSHAKE, **wrong}), SECRETS)
