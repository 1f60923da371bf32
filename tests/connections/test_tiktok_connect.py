"""Connecting a TikTok business account: the whole OAuth client flow against the fake TikTok on loopback."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from inbox import events
from inbox.models import Channel, Message, Role
from integrations.connections.models import Connection, ConnectionAudit, OAuthState
from integrations.models import ChannelCredential
from integrations.services import outbound
from tests.connections.conftest import callback_path, follow_provider
from tests.factories import MembershipFactory, MessageFactory, make_conversation
from tests.fakes.oauth import envelope
from tests.fakes.server import Reply

pytestmark = [pytest.mark.core, pytest.mark.django_db]


def start(client: Client, **data: str) -> str:
    response = client.post("/connections/tiktok/connect/", data)
    assert response.status_code == 302, response.content
    return response["Location"]


def connect(client: Client, choice: str = "Allow"):  # noqa: ANN201
    return client.get(callback_path(follow_provider(start(client), choice)))


def test_authorize_url_names_the_app_scopes_redirect_and_a_fresh_state(owner_client, fakes):
    location = start(owner_client)
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert location.startswith(fakes[0].base_url + "/v2/auth/authorize?")
    assert query["client_key"] == "fake-client-key" and query["response_type"] == "code"
    assert "message.list.send" in query["scope"].split(",")
    assert query["redirect_uri"] == "http://testserver/connections/tiktok/callback/"
    assert OAuthState.objects.get(state=query["state"]).consumed_at is None


def test_full_connect_creates_channel_registers_webhook_and_shows_the_profile(owner_client, owner, fakes):
    tiktok, _ = fakes
    seen = []
    events.subscribe("channel.connected", seen.append, phase=events.IN_TRANSACTION)
    try:
        response = connect(owner_client)
    finally:
        events.unsubscribe(seen.append)
    assert response.status_code == 302 and response["Location"] == "/connections/"
    channel = Channel.objects.get(kind="tiktok")
    assert (channel.account_id, channel.name, channel.organization) == ("biz-open-1", "Batik House", owner.organization)
    secrets = channel.credential.stored_values()
    assert secrets["access_token"] in tiktok.access_tokens and secrets["refresh_token"] in tiktok.refresh_tokens
    assert secrets["app_secret"] == "fake-client-secret"  # verifies TikTok's webhook signatures
    connection = Connection.objects.get(channel=channel)
    assert connection.status == "active" and connection.connected_by == owner.user
    assert connection.profile["username"] == "batikhouse"
    assert tiktok.webhook_callbacks[0]["event_type"] == "DIRECT_MESSAGE"
    assert tiktok.webhook_callbacks[0]["callback_url"].endswith("/webhooks/tiktok/")
    assert [e.payload["channel_id"] for e in seen] == [channel.pk]
    page = owner_client.get("/connections/").content.decode()
    assert "Batik House" in page and "@batikhouse" in page and "Read your TikTok conversations" in page
    assert secrets["access_token"] not in page and "by sari" in page
    assert ConnectionAudit.objects.filter(action="connected", actor=owner.user, channel=channel).exists()


def test_replayed_state_ends_on_a_clear_page_and_connects_nothing_twice(owner_client, fakes):
    callback = callback_path(follow_provider(start(owner_client)))
    assert owner_client.get(callback).status_code == 302
    replay = owner_client.get(callback)
    assert replay.status_code == 400
    assert "already used" in replay.content.decode() and "Try again" in replay.content.decode()
    assert Channel.objects.filter(kind="tiktok").count() == 1


def test_state_from_another_browser_session_is_refused(owner_client, owner, fakes):
    callback = callback_path(follow_provider(start(owner_client)))
    other_browser = Client()
    other_browser.force_login(owner.user)
    response = other_browser.get(callback)
    assert response.status_code == 400 and "another browser session" in response.content.decode()
    assert not Channel.objects.filter(kind="tiktok").exists()


def test_unknown_or_missing_state_is_refused(owner_client, fakes):
    for query in ("?code=x&state=forged", "?code=x"):
        response = owner_client.get("/connections/tiktok/callback/" + query)
        assert response.status_code == 400
    assert not Channel.objects.exists()


def test_denied_authorization_says_so_and_offers_a_retry(owner_client, fakes):
    response = connect(owner_client, "Deny")
    body = response.content.decode()
    assert response.status_code == 400 and "You did not allow access" in body and "Try again" in body
    assert not Channel.objects.exists() and not Connection.objects.exists()


def test_expired_code_is_refused_and_nothing_is_created(owner_client, fakes):
    tiktok, _ = fakes
    location = start(owner_client)
    state = parse_qs(urlsplit(location).query)["state"][0]
    code = tiktok.issue_code(redirect_uri="http://testserver/connections/tiktok/callback/", age=3600)
    response = owner_client.get(f"/connections/tiktok/callback/?code={code}&state={state}")
    assert response.status_code == 400 and "did not accept the authorization code" in response.content.decode()
    assert "expired" in response.content.decode()
    assert not Channel.objects.exists()


def test_reused_code_is_refused(owner_client, fakes):
    callback = callback_path(follow_provider(start(owner_client)))
    assert owner_client.get(callback).status_code == 302
    code = parse_qs(urlsplit(callback).query)["code"][0]
    state = parse_qs(urlsplit(start(owner_client)).query)["state"][0]
    response = owner_client.get(f"/connections/tiktok/callback/?code={code}&state={state}")
    assert response.status_code == 400 and "has been used" in response.content.decode()


def test_network_failure_at_the_token_exchange_leaves_nothing(owner_client, fakes):
    tiktok, _ = fakes
    callback = callback_path(follow_provider(start(owner_client)))
    tiktok.fail_next(503, times=2)
    response = owner_client.get(callback)
    assert response.status_code == 400 and "could not be reached" in response.content.decode()
    assert not Channel.objects.exists() and not ChannelCredential.objects.exists()


def test_failure_after_the_exchange_leaves_nothing_half_created(owner_client, fakes):
    tiktok, _ = fakes
    callback = callback_path(follow_provider(start(owner_client)))
    tiktok.queue(Reply(200, envelope(tiktok._tokens("biz-open-1"))))  # the exchange succeeds...
    tiktok.fail_next(500, times=2)  # ...then fetching the business profile fails
    response = owner_client.get(callback)
    assert response.status_code == 400
    assert not Channel.objects.exists() and not Connection.objects.exists()
    assert not ConnectionAudit.objects.exists()


def test_reconnect_keeps_the_channel_and_its_history(owner_client, owner, fakes):
    connect(owner_client)
    connection = Connection.objects.get()
    conversation = make_conversation(connection.channel)
    Channel.objects.filter(pk=connection.channel_id).update(status="needs_reauthorization")
    Connection.objects.filter(pk=connection.pk).update(status="needs_reauthorization")
    old_token = connection.channel.credential.stored_values()["access_token"]
    location = start(owner_client, channel_id=str(connection.channel_id))
    assert owner_client.get(callback_path(follow_provider(location))).status_code == 302
    connection.refresh_from_db()
    connection.channel.refresh_from_db()
    assert connection.status == "active" and connection.channel.status == "active"
    assert connection.channel.credential.stored_values()["access_token"] != old_token
    assert Channel.objects.count() == 1 and conversation.channel_id == connection.channel_id
    assert ConnectionAudit.objects.filter(action="reconnected").count() == 1


def test_reconnecting_with_another_account_is_refused(owner_client, fakes):
    tiktok, _ = fakes
    connect(owner_client)
    channel = Channel.objects.get()
    tiktok.open_id = "someone-else"
    location = start(owner_client, channel_id=str(channel.pk))
    response = owner_client.get(callback_path(follow_provider(location)))
    assert response.status_code == 400 and "A different account was authorized" in response.content.decode()
    assert Channel.objects.count() == 1


def test_agents_cannot_reach_the_connections_page(client, owner, fakes):
    agent = MembershipFactory(organization=owner.organization, role=Role.AGENT)
    client.force_login(agent.user)
    page = client.get("/connections/")
    assert page.status_code == 403 and "owners and admins" in page.content.decode()
    assert client.post("/connections/tiktok/connect/").status_code == 403


def test_disconnect_revokes_deletes_the_secret_stops_sending_and_keeps_history(owner_client, owner, fakes):
    tiktok, _ = fakes
    connect(owner_client)
    connection = Connection.objects.get()
    channel = connection.channel
    token = channel.credential.stored_values()["access_token"]
    conversation = make_conversation(channel)
    MessageFactory(conversation=conversation)
    seen = []
    events.subscribe("channel.disconnected", seen.append, phase=events.IN_TRANSACTION)
    try:
        response = owner_client.post(f"/connections/{connection.pk}/disconnect/")
    finally:
        events.unsubscribe(seen.append)
    assert response.status_code == 302
    channel.refresh_from_db()
    connection.refresh_from_db()
    assert channel.status == "disabled" and connection.status == "disconnected"
    assert connection.disconnected_by == owner.user
    assert not ChannelCredential.objects.filter(channel=channel).exists()
    assert token in tiktok.revoked and token not in tiktok.access_tokens
    assert [e.payload["channel_id"] for e in seen] == [channel.pk]
    audit = ConnectionAudit.objects.get(action="disconnected")
    assert audit.actor == owner.user and audit.detail["revoked_at_provider"] is True
    assert Message.objects.filter(conversation=conversation).count() == 1  # history kept
    queued = MessageFactory(conversation=conversation, direction="outbound", sender_type="agent", status="queued")
    outcome = outbound.outbound_send(message_id=queued.pk)
    queued.refresh_from_db()
    assert outcome.status == "failed" and queued.error_reason == "the channel is disconnected"
    assert len(tiktok.requests_to("/business/message/send/")) == 0
