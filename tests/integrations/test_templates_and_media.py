"""WhatsApp approved templates (sync, composer picker, API, outbound), lazily fetched media, and TikTok's
``authorization.removed``: through the pages, the REST API and the services, against the fake Graph API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.utils import timezone

from inbox import channel_rules
from inbox.automation import actions
from inbox.models import Channel, Message
from integrations.models import MessageTemplate
from integrations.services import outbound, templates, webhooks
from tests.factories import MessageFactory, OrganizationFactory, make_channel, make_conversation
from tests.fakes.graph import FakeGraphAPI
from tests.integrations.conftest import KITS, payload
from tests.integrations.factories import admin_of, agent_of

pytestmark = [pytest.mark.django_db, pytest.mark.core]

TOKEN = "wa-test-token"
PNID = "106540352242922"
WABA = "102290129340398"
CUSTOMER = "16505551234"
LONG_AGO = timedelta(hours=30)


@pytest.fixture(scope="module")
def graph_server() -> Iterator[FakeGraphAPI]:
    fake = FakeGraphAPI(token=TOKEN).start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def graph(graph_server: FakeGraphAPI, settings) -> FakeGraphAPI:
    graph_server.reset()
    settings.META_GRAPH_API_BASE = graph_server.base_url
    return graph_server


@pytest.fixture
def whatsapp(db) -> Channel:
    org = OrganizationFactory()
    return make_channel(
        org,
        kind="whatsapp",
        name="WA shop",
        account_id=PNID,
        access_token=TOKEN,
        app_secret="s",
        extra={"waba_id": WABA},
    )


def _synced(channel: Channel, graph: FakeGraphAPI) -> None:
    graph.add_template(WABA, "order_update", body="Hi {{1}}, your order {{2}} has shipped.")
    graph.add_template(WABA, "spring_sale", status="PENDING", category="MARKETING", body="Sale {{1}}")
    templates.templates_sync(channel=channel)


# -- sync ----------------------------------------------------------------------------------------------------


def test_sync_stores_every_template_and_offers_only_the_approved_ones(whatsapp, graph):
    _synced(whatsapp, graph)

    rows = {(t.name, t.status) for t in MessageTemplate.objects.filter(channel=whatsapp)}
    assert rows == {("order_update", "APPROVED"), ("spring_sale", "PENDING")}
    [choice] = channel_rules.templates_for(whatsapp)
    assert (choice.name, choice.language, choice.parameter_count) == ("order_update", "en_US", 2)


def test_a_template_removed_at_the_account_disappears_on_the_next_sync(whatsapp, graph):
    _synced(whatsapp, graph)
    graph.templates[WABA] = graph.templates[WABA][1:]
    result = templates.templates_sync(channel=whatsapp)
    assert (result.total, result.removed) == (1, 1)
    assert channel_rules.templates_for(whatsapp) == []


def test_the_sync_button_syncs_for_admins_and_says_so(client, whatsapp, graph):
    graph.add_template(WABA, "order_update")
    client.force_login(admin_of(whatsapp.organization))
    page = client.post(f"/channels/{whatsapp.pk}/templates/sync/", follow=True).content.decode()
    assert "1 templates synced, 1 of them approved." in page
    assert "order_update" in page and "Sync templates" in page


def test_a_failed_sync_shows_the_reason_and_keeps_the_old_list(client, whatsapp, graph):
    _synced(whatsapp, graph)
    graph.fail_with_graph_error(190)
    client.force_login(admin_of(whatsapp.organization))
    page = client.post(f"/channels/{whatsapp.pk}/templates/sync/", follow=True).content.decode()
    assert "The templates could not be synced: access token invalid or expired" in page
    assert MessageTemplate.objects.filter(channel=whatsapp).count() == 2


def test_agents_cannot_sync_templates(client, whatsapp, graph):
    client.force_login(agent_of(whatsapp.organization))
    assert client.post(f"/channels/{whatsapp.pk}/templates/sync/").status_code == 403
    assert graph.requests == []


# -- composer and API -------------------------------------------------------------------------------------------


def _agent_on(channel: Channel, client) -> None:
    user = agent_of(channel.organization)
    user.memberships.first().channels.add(channel)
    client.force_login(user)


def test_outside_the_window_the_composer_offers_the_template_picker(client, whatsapp, graph):
    _synced(whatsapp, graph)
    conversation = make_conversation(whatsapp, customer_id=CUSTOMER, last_inbound_at=timezone.now() - LONG_AGO)
    _agent_on(whatsapp, client)

    html = client.get(f"/inbox/c/{conversation.pk}/").content.decode()
    assert 'id="template-composer"' in html and "composer_templates.js" in html
    assert "only an approved template can be sent" in html
    detail = client.get(f"/api/v1/conversations/{conversation.pk}/").json()["composer"]
    assert detail["template_only"] is True and detail["can_send"] is False
    assert detail["templates"] == [
        {
            "name": "order_update",
            "language": "en_US",
            "body_text": "Hi {{1}}, your order {{2}} has shipped.",
            "parameter_count": 2,
        }
    ]


def test_inside_the_window_there_is_no_picker(client, whatsapp, graph):
    conversation = make_conversation(whatsapp, customer_id=CUSTOMER)
    _agent_on(whatsapp, client)
    assert 'id="template-composer"' not in client.get(f"/inbox/c/{conversation.pk}/").content.decode()


def test_a_template_reply_outside_the_window_is_stored_rendered_and_sent_in_the_documented_shape(
    client, whatsapp, graph
):
    _synced(whatsapp, graph)
    conversation = make_conversation(whatsapp, customer_id=CUSTOMER, last_inbound_at=timezone.now() - LONG_AGO)
    _agent_on(whatsapp, client)

    answer = client.post(
        f"/api/v1/conversations/{conversation.pk}/messages/",
        {"template": {"name": "order_update", "language": "en_US", "parameters": ["Ada", "A-42"]}},
        content_type="application/json",
    )

    assert answer.status_code == 201, answer.content
    message = Message.objects.get(pk=answer.json()["id"])
    assert message.body == "Hi Ada, your order A-42 has shipped."
    assert message.metadata["template"] == {"name": "order_update", "language": "en_US", "parameters": ["Ada", "A-42"]}
    assert outbound.outbound_send(message_id=message.pk).status == "sent"
    [sent] = graph.sent
    assert sent["type"] == "template" and sent["to"] == CUSTOMER
    assert sent["template"] == {
        "name": "order_update",
        "language": {"code": "en_US"},
        "components": [
            {"type": "body", "parameters": [{"type": "text", "text": "Ada"}, {"type": "text", "text": "A-42"}]}
        ],
    }


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        ({"template": {"name": "spring_sale", "language": "en_US", "parameters": ["x"]}}, "not an approved template"),
        ({"template": {"name": "order_update", "language": "en_US", "parameters": ["Ada"]}}, "needs 2 values"),
        ({"template": {"name": "order_update", "language": "en_US", "parameters": ["Ada", " "]}}, "may not be blank"),
        ({"body": "Hello again", "template": {"name": "order_update", "language": "en_US"}}, "either a body"),
        ({"body": "Hello again"}, "only an approved template"),
    ],
)
def test_what_cannot_be_sent_answers_400_with_the_reason(client, whatsapp, graph, reply, error):
    _synced(whatsapp, graph)
    conversation = make_conversation(whatsapp, customer_id=CUSTOMER, last_inbound_at=timezone.now() - LONG_AGO)
    _agent_on(whatsapp, client)
    answer = client.post(f"/api/v1/conversations/{conversation.pk}/messages/", reply, content_type="application/json")
    assert answer.status_code == 400
    assert error in json.dumps(answer.json(), ensure_ascii=False)
    assert not Message.objects.filter(conversation=conversation, direction="outbound").exists()


def test_channels_without_templates_refuse_a_template(client, db):
    org = OrganizationFactory()
    messenger = make_channel(org, kind="messenger", name="Page", account_id="682498302938465", access_token="t")
    conversation = make_conversation(messenger)
    _agent_on(messenger, client)
    answer = client.post(
        f"/api/v1/conversations/{conversation.pk}/messages/",
        {"template": {"name": "order_update", "language": "en_US"}},
        content_type="application/json",
    )
    assert answer.status_code == 400 and "no message templates" in answer.content.decode()


# -- auto-replies --------------------------------------------------------------------------------------------


def _firing() -> actions.Firing:
    return actions.Firing(rule_id=1, rule_name="Shipping", version=1, matched=["ship"], at=timezone.now())


def test_an_auto_reply_uses_its_template_outside_the_window_and_text_inside(whatsapp, graph):
    _synced(whatsapp, graph)
    [action] = actions.clean_actions(
        [
            {
                "type": "send_reply",
                "text": "We ship daily, {{contact.first_name}}.",
                "template": {"name": "order_update", "language": "en_US", "params": ["{{contact.first_name}}", "soon"]},
            },
        ]
    )
    late = make_conversation(
        whatsapp, customer_id=CUSTOMER, name="Dewi Sari", last_inbound_at=timezone.now() - LONG_AGO
    )
    fresh = make_conversation(whatsapp, customer_id="628111", name="Budi")

    assert actions.execute(action, late, _firing())["status"] == "done"
    assert actions.execute(action, fresh, _firing())["status"] == "done"

    late_reply = late.messages.get(direction="outbound")
    assert late_reply.body == "Hi Dewi, your order soon has shipped."
    assert late_reply.metadata["template"]["parameters"] == ["Dewi", "soon"]
    assert fresh.messages.get(direction="outbound").body == "We ship daily, Budi."
    assert "template" not in fresh.messages.get(direction="outbound").metadata


def test_an_auto_reply_template_is_validated_when_the_rule_is_saved():
    with pytest.raises(ValueError, match="unknown variable"):
        actions.clean_actions(
            [{"type": "send_reply", "text": "Hi", "template": {"name": "t", "language": "en", "params": ["{{x.y}}"]}}]
        )
    with pytest.raises(ValueError, match="name and a language"):
        actions.clean_actions([{"type": "send_reply", "text": "Hi", "template": {"name": "t"}}])


# -- media ---------------------------------------------------------------------------------------------------


def _image_message(channel: Channel, media_id: str = "media-1") -> Message:
    conversation = make_conversation(channel, customer_id=CUSTOMER)
    return MessageFactory(
        conversation=conversation,
        kind="image",
        body="",
        attachments=[
            {
                "kind": "image",
                "media_id": media_id,
                "mime_type": "image/jpeg",
                "url": "",
                "caption": "",
                "filename": "",
                "data": {},
            }
        ],
    )


def test_a_received_image_is_streamed_to_a_member_who_may_see_it(client, whatsapp, graph):
    graph.add_media_file("media-1", b"\xff\xd8\xff jpeg", "image/jpeg")
    message = _image_message(whatsapp)
    _agent_on(whatsapp, client)

    thread = client.get(f"/inbox/c/{message.conversation_id}/").content.decode()
    assert f"/messages/{message.pk}/media/?n=0" in thread
    response = client.get(f"/messages/{message.pk}/media/?n=0")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg" and response["Cache-Control"] == "private, no-store"
    assert b"".join(response.streaming_content) == b"\xff\xd8\xff jpeg"
    assert "lookaside" not in str(response.headers) and TOKEN not in str(response.headers)


def test_media_the_provider_no_longer_has_is_a_404(client, whatsapp, graph):
    message = _image_message(whatsapp, media_id="expired")
    _agent_on(whatsapp, client)
    response = client.get(f"/messages/{message.pk}/media/")
    assert response.status_code == 404 and "not available" in response.content.decode()


def test_a_provider_that_cannot_deliver_the_file_is_a_502(client, whatsapp, graph):
    graph.add_media("media-1", "http://127.0.0.1:9/unreachable", "image/jpeg")
    message = _image_message(whatsapp)
    _agent_on(whatsapp, client)
    response = client.get(f"/messages/{message.pk}/media/")
    assert response.status_code == 502 and "could not deliver" in response.content.decode()


def test_members_who_cannot_see_the_conversation_get_a_404(client, whatsapp, graph):
    graph.add_media_file("media-1", b"secret picture", "image/jpeg")
    message = _image_message(whatsapp)
    client.force_login(admin_of(OrganizationFactory()))  # another organization's admin
    assert client.get(f"/messages/{message.pk}/media/").status_code == 404
    assert graph.requests == []


def test_a_document_is_a_download_never_shown_inline(client, whatsapp, graph):
    graph.add_media_file("doc-1", b"<html><script>alert(1)</script>", "text/html")
    message = _image_message(whatsapp, media_id="doc-1")
    message.attachments[0]["kind"] = "document"
    message.save()
    _agent_on(whatsapp, client)
    response = client.get(f"/messages/{message.pk}/media/")
    assert response["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in response["Content-Security-Policy"]


# -- TikTok authorization.removed ----------------------------------------------------------------------------


def test_tiktok_authorization_removed_stops_sending_and_asks_to_reconnect(client, db):
    kit = KITS["tiktok"]
    org = OrganizationFactory()
    channel = make_channel(
        org, kind="tiktok", name="TT", account_id=kit.account_id, app_secret="tt-secret", access_token="tt-token"
    )
    conversation = make_conversation(channel, customer_id=kit.customer_id, thread_id=kit.thread_id)
    queued = MessageFactory(
        conversation=conversation,
        direction="outbound",
        sender_type="agent",
        status="queued",
        external_id=None,
        body="See you",
    )
    doc = payload("tiktok", "authorization_removed")
    doc["user_openid"] = kit.account_id
    body = json.dumps(doc).encode()
    headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in kit.sign(body, "tt-secret").items()}

    answer = client.post(f"/webhooks/tiktok/{channel.pk}/", body, content_type="application/json", **headers)
    assert answer.status_code == 200
    stored = channel.webhooks.get()
    webhooks.webhook_process(webhook_id=stored.pk)

    stored.refresh_from_db()
    channel.refresh_from_db()
    assert stored.status == "processed" and stored.notes[0]["authorization_removed"] == kit.account_id
    assert channel.status == Channel.Status.NEEDS_REAUTHORIZATION
    conversation.refresh_from_db()
    assert "reconnected" in channel_rules.composer_state(conversation).reason
    outcome = outbound.outbound_send(message_id=queued.pk)
    assert outcome.status == "failed" and "reconnect" in outcome.reason
