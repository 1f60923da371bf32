"""WhatsAppAdapter.send and fetch_media_url against the fake Graph API on loopback.

Retries, timeouts, token and settings defaults (shared with Messenger): ``tests/integrations/meta/test_send.py``.
"""

from __future__ import annotations

import pytest

from integrations.channels.base import Attachment, ChannelSecrets, OutboundMessage, ProviderResult, SendError
from integrations.meta.errors import MediaFetchError
from integrations.whatsapp.adapter import WhatsAppAdapter
from tests.integrations.meta.support import TOKEN, fast_adapter

PNID = "106540352242922"
SECRETS = ChannelSecrets(account_id=PNID, access_token=TOKEN)
TO = "16505551234"


@pytest.fixture
def adapter(graph_api, sleeps) -> WhatsAppAdapter:
    return fast_adapter(WhatsAppAdapter, graph_api, sleeps)


def test_text_is_sent_with_the_documented_shape(adapter, graph_api):
    result = adapter.send(SECRETS, OutboundMessage(customer_id=TO, text="Yes, in blue and green."))
    [request] = graph_api.requests
    assert (request.method, request.path) == ("POST", f"/v21.0/{PNID}/messages")
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"] == "application/json"
    assert request.json() == {
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": TO, "type": "text",
        "text": {"body": "Yes, in blue and green.", "preview_url": False},
    }
    assert result == ProviderResult(external_id=f"wamid.FAKE{PNID}000001")


def test_reply_quotes_the_customer_message(adapter, graph_api):
    adapter.send(SECRETS, OutboundMessage(customer_id=TO, text="this one", reply_to_external_id="wamid.THEIRS"))
    assert graph_api.sent[0]["context"] == {"message_id": "wamid.THEIRS"}


def test_image_by_link_with_caption(adapter, graph_api):
    image = Attachment(kind="image", url="https://cdn.example.com/jacket.jpg")
    adapter.send(SECRETS, OutboundMessage(customer_id=TO, text="the blue one", attachments=(image,)))
    body = graph_api.sent[0]
    assert (body["type"], body["image"]) == ("image", {"link": "https://cdn.example.com/jacket.jpg",
                                                       "caption": "the blue one"})


def test_image_by_media_id(adapter, graph_api):
    adapter.send(SECRETS, OutboundMessage(customer_id=TO, attachments=(Attachment(kind="image", media_id="55"),)))
    assert graph_api.sent[0]["image"] == {"id": "55"}


def test_template_with_components(adapter, graph_api):
    components = [{"type": "body", "parameters": [{"type": "text", "text": "Ada"}]}]
    template = {"name": "order_update", "language": "en_US", "components": components}
    result = adapter.send(SECRETS, OutboundMessage(customer_id=TO, template=template))
    body = graph_api.sent[0]
    assert body["type"] == "template"
    assert body["template"] == {"name": "order_update", "language": {"code": "en_US"}, "components": components}
    assert result.external_id.startswith("wamid.")


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (OutboundMessage(customer_id=TO, text="x" * 4097), "4097 characters; WhatsApp allows 4096"),
        (OutboundMessage(customer_id=TO), "nothing to send"),
        (OutboundMessage(customer_id=""), "no WhatsApp number"),
        (OutboundMessage(customer_id=TO, template={"language": "en"}), "no name"),
        (OutboundMessage(customer_id=TO, template={"name": "t", "language": {}}), "no language code"),
        (OutboundMessage(customer_id=TO, attachments=(Attachment(kind="image"),)), "neither a URL"),
        (OutboundMessage(customer_id=TO, text="hi", attachments=(Attachment(kind="sticker", media_id="1"),)),
         "cannot send text with a sticker"),
    ],
)
def test_invalid_messages_are_refused_before_any_call(adapter, graph_api, message, reason):
    with pytest.raises(SendError, match=reason) as caught:
        adapter.send(SECRETS, message)
    assert caught.value.retryable is False
    assert graph_api.requests == []


def test_text_of_exactly_4096_characters_is_sent(adapter, graph_api):
    adapter.send(SECRETS, OutboundMessage(customer_id=TO, text="x" * 4096))
    assert len(graph_api.sent[0]["text"]["body"]) == 4096


@pytest.mark.parametrize(
    ("code", "reason", "retryable", "attempts"),
    [
        (131047, "outside the 24-hour window", False, 1),
        (131026, "recipient unavailable", False, 1),
        (130429, "sending too fast", True, 3),  # throttling is retried with backoff first
        (131056, "sending too fast", True, 3),
        (131009, "provider error 131009: (#131009) error", False, 1),
    ],
)
def test_graph_errors_become_agent_reasons(adapter, graph_api, code, reason, retryable, attempts):
    graph_api.fail_with_graph_error(code, times=3)
    with pytest.raises(SendError) as caught:
        adapter.send(SECRETS, OutboundMessage(customer_id=TO, text="hi"))
    assert (caught.value.reason, caught.value.retryable, caught.value.code) == (reason, retryable, str(code))
    assert len(graph_api.requests) == attempts


def test_channel_without_phone_number_id_is_refused(adapter, graph_api):
    with pytest.raises(SendError, match="phone number id"):
        adapter.send(ChannelSecrets(access_token=TOKEN), OutboundMessage(customer_id=TO, text="x"))
    assert graph_api.requests == []


def test_fetch_media_url(adapter, graph_api):
    graph_api.add_media("1003383421387256", "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1",
                        "image/jpeg")
    url, mime_type = adapter.fetch_media_url(SECRETS, "1003383421387256")
    assert (url, mime_type) == ("https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1", "image/jpeg")
    [request] = graph_api.requests
    assert (request.method, request.path) == ("GET", "/v21.0/1003383421387256")
    assert request.headers["authorization"] == f"Bearer {TOKEN}"


def test_fetch_unknown_media_fails_with_a_reason(adapter, graph_api):
    with pytest.raises(MediaFetchError, match="provider error 100") as caught:
        adapter.fetch_media_url(SECRETS, "404404")
    assert caught.value.retryable is False
