"""WhatsApp message templates at the adapter: the account's list (paged) and the template send's shape."""

from __future__ import annotations

import pytest

from integrations.channels.base import Attachment, ChannelSecrets, MediaError, MediaRequest, OutboundMessage, SendError
from integrations.whatsapp import client as whatsapp_client
from integrations.whatsapp.adapter import WhatsAppAdapter
from tests.integrations.meta.support import TOKEN, fast_adapter

pytestmark = [pytest.mark.core]

PNID = "106540352242922"
WABA = "102290129340398"
SECRETS = ChannelSecrets(account_id=PNID, access_token=TOKEN, extra={"waba_id": WABA})


@pytest.fixture
def adapter(graph_api, sleeps) -> WhatsAppAdapter:
    return fast_adapter(WhatsAppAdapter, graph_api, sleeps)


def test_templates_are_read_across_every_page(adapter, graph_api, monkeypatch):
    monkeypatch.setattr(whatsapp_client, "PAGE_SIZE", 2)
    for n in range(5):
        graph_api.add_template(WABA, f"order_update_{n}", body="Hi {{1}}, order {{2}} is on its way.")
    graph_api.add_template(WABA, "spring_sale", status="PENDING", category="MARKETING", body="Sale!")

    templates = adapter.fetch_templates(SECRETS)

    assert [t.name for t in templates] == [f"order_update_{n}" for n in range(5)] + ["spring_sale"]
    first = templates[0]
    assert (first.language, first.status, first.category) == ("en_US", "APPROVED", "UTILITY")
    assert first.body_text == "Hi {{1}}, order {{2}} is on its way." and first.body_parameter_count == 2
    assert templates[-1].status == "PENDING" and templates[-1].body_parameter_count == 0
    requests = graph_api.requests_to("/message_templates")
    assert [r.query.get("after") for r in requests] == [None, "2", "4"]
    assert all(r.path == f"/v21.0/{WABA}/message_templates" for r in requests)
    assert set(requests[0].query["fields"].split(",")) >= {"name", "language", "status", "category", "components"}


def test_no_business_account_id_is_a_clear_refusal(adapter, graph_api):
    with pytest.raises(SendError, match="WhatsApp Business Account id"):
        adapter.fetch_templates(ChannelSecrets(account_id=PNID, access_token=TOKEN))
    assert graph_api.requests == []


def test_a_template_is_sent_with_its_body_variables_in_the_documented_shape(adapter, graph_api):
    template = {"name": "order_update", "language": "en_US", "body_parameters": ["Ada", "A-42"]}
    result = adapter.send(SECRETS, OutboundMessage(customer_id="16505551234", template=template))

    assert graph_api.sent == [
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "16505551234",
            "type": "template",
            "template": {
                "name": "order_update",
                "language": {"code": "en_US"},
                "components": [
                    {"type": "body", "parameters": [{"type": "text", "text": "Ada"}, {"type": "text", "text": "A-42"}]}
                ],
            },
        }
    ]
    assert result.external_id.startswith("wamid.")


def test_an_empty_template_variable_is_refused_before_any_request(adapter, graph_api):
    template = {"name": "order_update", "language": "en_US", "body_parameters": ["Ada", " "]}
    with pytest.raises(SendError, match="empty variable"):
        adapter.send(SECRETS, OutboundMessage(customer_id="16505551234", template=template))
    assert graph_api.requests == []


def test_received_media_is_downloaded_with_the_channel_token(adapter, graph_api):
    graph_api.add_media_file("1003383421387256", b"\x89PNG fake image", "image/png")
    download = adapter.fetch_media(
        SECRETS, MediaRequest(attachment=Attachment(kind="image", media_id="1003383421387256"))
    )

    assert download.content_type == "image/png"
    assert b"".join(download.chunks) == b"\x89PNG fake image"
    file_request = graph_api.requests_to("/media-files/1003383421387256")[0]
    assert file_request.headers["authorization"] == f"Bearer {TOKEN}"


def test_unknown_media_is_not_found(adapter, graph_api):
    with pytest.raises(MediaError) as caught:
        adapter.fetch_media(SECRETS, MediaRequest(attachment=Attachment(kind="image", media_id="404404")))
    assert caught.value.not_found
