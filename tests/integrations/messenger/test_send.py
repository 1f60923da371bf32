"""MessengerAdapter.send against the fake Graph API on loopback: bodies, tags, refusals, Graph error codes.

Retries, timeouts, token and settings defaults (shared with WhatsApp): ``tests/integrations/meta/test_send.py``.
"""

from __future__ import annotations

import pytest

from integrations.channels.base import Attachment, ChannelSecrets, OutboundMessage, ProviderResult, SendError
from integrations.messenger.adapter import MessengerAdapter
from tests.integrations.meta.support import TOKEN, fast_adapter

PAGE = "682498302938465"
PSID = "6783451238412954"
SECRETS = ChannelSecrets(account_id=PAGE, access_token=TOKEN)


@pytest.fixture
def adapter(graph_api, sleeps) -> MessengerAdapter:
    return fast_adapter(MessengerAdapter, graph_api, sleeps)


def test_text_reply_is_sent_as_response(adapter, graph_api):
    result = adapter.send(SECRETS, OutboundMessage(customer_id=PSID, text="We ship tomorrow."))
    [request] = graph_api.requests
    assert (request.method, request.path) == ("POST", f"/v21.0/{PAGE}/messages")
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.json() == {"recipient": {"id": PSID}, "messaging_type": "RESPONSE",
                              "message": {"text": "We ship tomorrow."}}
    assert result == ProviderResult(external_id=f"m_FAKE{PAGE}000001")


def test_human_agent_tag_is_sent_as_message_tag(adapter, graph_api):
    adapter.send(SECRETS, OutboundMessage(customer_id=PSID, text="Sorry for the wait", tag="human_agent"))
    body = graph_api.sent[0]
    assert (body["messaging_type"], body["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")


def test_image_by_url(adapter, graph_api):
    image = Attachment(kind="image", url="https://cdn.example.com/jacket.jpg")
    adapter.send(SECRETS, OutboundMessage(customer_id=PSID, attachments=(image,)))
    assert graph_api.sent[0]["message"] == {"attachment": {"type": "image", "payload": {
        "url": "https://cdn.example.com/jacket.jpg", "is_reusable": False}}}


def test_document_is_sent_as_file(adapter, graph_api):
    adapter.send(SECRETS, OutboundMessage(customer_id=PSID, attachments=(
        Attachment(kind="document", url="https://cdn.example.com/invoice.pdf"),)))
    assert graph_api.sent[0]["message"]["attachment"]["type"] == "file"


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (OutboundMessage(customer_id=PSID, text="x" * 2001), "2001 characters; Messenger allows 2000"),
        (OutboundMessage(customer_id=PSID, text="hi", attachments=(Attachment(kind="image", url="https://x"),)),
         "two messages"),
        (OutboundMessage(customer_id=PSID, text="hi", tag="PROMO"), "unknown Messenger message tag"),
        (OutboundMessage(customer_id=PSID, template={"name": "t", "language": "en"}), "no message templates"),
        (OutboundMessage(customer_id=PSID), "nothing to send"),
        (OutboundMessage(customer_id="", text="hi"), "no Messenger PSID"),
    ],
)
def test_invalid_messages_are_refused_before_any_call(adapter, graph_api, message, reason):
    with pytest.raises(SendError, match=reason):
        adapter.send(SECRETS, message)
    assert graph_api.requests == []


@pytest.mark.parametrize(
    ("code", "subcode", "reason", "retryable", "attempts"),
    [
        (10, 2018278, "outside the 24-hour window", False, 1),
        (10, 2018065, "outside the 24-hour window", False, 1),
        (551, 1545041, "recipient unavailable", False, 1),
        (613, None, "sending too fast", True, 3),
        (190, None, "access token invalid or expired", False, 1),
        (100, 2018001, "provider error 100: (#100) Invalid parameter", False, 1),
    ],
)
def test_graph_errors_become_agent_reasons(adapter, graph_api, code, subcode, reason, retryable, attempts):
    graph_api.fail_with_graph_error(code, subcode=subcode, times=3)
    with pytest.raises(SendError) as caught:
        adapter.send(SECRETS, OutboundMessage(customer_id=PSID, text="hi"))
    assert (caught.value.reason, caught.value.retryable) == (reason, retryable)
    assert len(graph_api.requests) == attempts
