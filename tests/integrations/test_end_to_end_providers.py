"""End to end on PostgreSQL + Redis + a real Celery worker + daphne, with the providers faked on loopback.

For WhatsApp, Messenger and TikTok: a signed webhook posted over HTTP to daphne becomes a message in the
agent's inbox (in the database, in the REST API and live on the agent's websocket); the agent's reply, posted
to the REST API, reaches the fake provider in the documented shape; the provider's receipts move it to
delivered, then read. Then the same inbound delivery posted five times, shuffled with duplicated receipts
(and echoes of the reply where the provider sends them), leaves exactly one message and the reply ``read``.

The fakes run in this test process; the worker's ``META_GRAPH_API_BASE`` / ``TIKTOK_API_BASE`` point at them.
WhatsApp and TikTok receipts go to the app-level endpoint (``/webhooks/<provider>/``, routed by account id),
Messenger's to its channel's own endpoint; the first message and the redeliveries go to both, so duplicates
are caught both as repeated deliveries and, racing in the worker's threads, as repeated provider message ids.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.test import Client
from rest_framework.authtoken.models import Token
from websockets.sync.client import ClientConnection, connect

from inbox.models import Channel, Message, Role
from integrations.models import InboundWebhook
from integrations.services.channels import channel_create
from tests.factories import MembershipFactory, OrganizationFactory
from tests.fakes.graph import FakeGraphAPI
from tests.fakes.server import RecordedRequest
from tests.fakes.tiktok import FakeTikTokAPI
from tests.integrations.conftest import KITS, ProviderKit
from tests.processes import celery_worker, daphne_server, wait_until

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

APP_SECRET = "e2e-app-secret"  # the Messaging Partner app's secret (app-level endpoint)
CHANNEL_SECRET = "e2e-channel-secret"  # the channel's own app secret (per-channel endpoint)
VERIFY_TOKEN = "e2e-verify-token"
ACCESS_TOKEN = "e2e-access-token"
QUESTION = "Do you ship to Surabaya?"
REPLY = "We do, in two days."
REPLY_AGAIN = "Three days to Medan."
FOLLOWUP_QUESTION = "And to Medan?"
# Where each provider's receipts go: WhatsApp and TikTok to the app, Messenger to the channel.
RECEIPTS_ENDPOINT = {"whatsapp": "app", "messenger": "channel", "tiktok": "app"}


@dataclass
class Stack:
    url: str
    graph: FakeGraphAPI
    tiktok: FakeTikTokAPI

    def fake(self, kind: str) -> FakeGraphAPI | FakeTikTokAPI:
        return self.tiktok if kind == "tiktok" else self.graph


@pytest.fixture(scope="module")
def stack(django_db_setup: None, django_db_blocker: Any) -> Iterator[Stack]:
    """The fakes, one Celery worker and one daphne process for the whole module (starting them costs seconds)."""
    graph = FakeGraphAPI(token=ACCESS_TOKEN).start()
    tiktok = FakeTikTokAPI(tokens=[ACCESS_TOKEN]).start()
    env = {
        "META_GRAPH_API_BASE": graph.base_url,
        "TIKTOK_API_BASE": tiktok.base_url,
        "META_APP_SECRET": APP_SECRET,
        "META_VERIFY_TOKEN": VERIFY_TOKEN,
        "TIKTOK_CLIENT_SECRET": APP_SECRET,
    }
    try:
        with django_db_blocker.unblock(), celery_worker(**env), daphne_server(**env) as url:
            yield Stack(url, graph, tiktok)
    finally:
        graph.stop()
        tiktok.stop()


@dataclass
class Shop:
    kit: ProviderKit
    channel: Channel
    api: httpx.Client  # the agent's REST API client on daphne (personal API token)
    session_cookie: str
    base_url: str

    def post(self, body: bytes, endpoint: str) -> httpx.Response:
        """Post a delivery the way the provider does: signed for the endpoint's secret, raw JSON body."""
        if endpoint == "app":
            path, secret = f"/webhooks/{self.kit.kind}/", APP_SECRET
        else:
            path, secret = f"/webhooks/{self.kit.kind}/{self.channel.pk}/", CHANNEL_SECRET
        headers = {"Content-Type": "application/json", **self.kit.sign(body, secret)}
        return httpx.post(self.base_url + path, content=body, headers=headers, timeout=10, trust_env=False)


@pytest.fixture
def shop_for(stack: Stack) -> Iterator[Callable[[str], Shop]]:
    clients: list[httpx.Client] = []

    def make(kind: str) -> Shop:
        kit = KITS[kind]
        stack.fake(kind).reset()
        organization = OrganizationFactory(name=f"{kind} shop")
        channel = channel_create(
            organization=organization,
            kind=kind,
            name=f"{kind.title()} shop",
            account_id=kit.account_id,
            app_secret=CHANNEL_SECRET,
            verify_token=VERIFY_TOKEN,
            access_token=ACCESS_TOKEN,
        )
        agent = MembershipFactory(organization=organization, role=Role.AGENT, user__password=None)  # force_login
        agent.channels.add(channel)
        browser = Client()
        browser.force_login(agent.user)
        api = httpx.Client(
            base_url=stack.url,
            headers={"Authorization": f"Token {Token.objects.create(user=agent.user).key}"},
            timeout=10,
            trust_env=False,
        )
        clients.append(api)
        return Shop(kit, channel, api, browser.cookies[settings.SESSION_COOKIE_NAME].value, stack.url)

    yield make
    for client in clients:
        client.close()


class AgentSocket:
    """The agent's live inbox websocket on daphne, with a wait for the first event matching a condition."""

    def __init__(self, connection: ClientConnection):
        self.connection = connection
        self.seen: list[dict[str, Any]] = []

    def wait_for(self, event: str, timeout: float = 15, **fields: Any) -> dict[str, Any]:
        """The first ``event`` (seen or still to come) whose payload's message has ``fields``."""

        def matches(item: dict[str, Any]) -> bool:
            message = item["payload"].get("message") or {}
            return item["event"] == event and all(message.get(k) == v for k, v in fields.items())

        def arrived() -> dict[str, Any] | None:
            found = next((item for item in self.seen if matches(item)), None)
            if found is None:
                try:
                    self.seen.append(json.loads(self.connection.recv(timeout=0.2)))
                except TimeoutError:
                    return None
                found = self.seen[-1] if matches(self.seen[-1]) else None
            return found

        return wait_until(arrived, timeout=timeout, interval=0, message=f"{event} {fields} on the websocket")


@contextmanager
def agent_socket(shop: Shop) -> Iterator[AgentSocket]:
    url = shop.base_url.replace("http://", "ws://") + "/ws/inbox/"
    with connect(
        url,
        origin=shop.base_url,  # the consumer only accepts the site's own origin
        additional_headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={shop.session_cookie}"},
        proxy=None,
        open_timeout=10,
    ) as connection:
        socket = AgentSocket(connection)
        hello = socket.wait_for("hello")
        assert hello is not None
        assert socket.seen[-1]["payload"]["channels"] == [shop.channel.pk]
        yield socket


def agent_replies(shop: Shop, stack: Stack, socket: AgentSocket, conversation_id: int, text: str) -> Message:
    """The agent answers through the REST API; returns the reply once the worker has sent it."""
    response = shop.api.post(f"/api/v1/conversations/{conversation_id}/messages/", json={"body": text})
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "queued"
    reply_id = response.json()["id"]

    socket.wait_for("message.status_changed", id=reply_id, status="sent")
    reply = Message.objects.get(pk=reply_id)
    assert reply.status == "sent" and reply.external_id
    assert_documented_send(shop.kit, stack.fake(shop.kit.kind).requests[-1], text)
    return reply


def assert_documented_send(kit: ProviderKit, request: RecordedRequest, text: str) -> None:
    body = request.json()
    if kit.kind == "tiktok":
        assert (request.path, request.headers["access-token"]) == (
            "/open_api/v1.3/business/message/send/", ACCESS_TOKEN)
        assert (body["business_id"], body["recipient_type"], body["recipient"]) == (
            kit.account_id, "CONVERSATION", kit.thread_id)
        assert (body["message_type"], body["text"]) == ("TEXT", {"body": text})
        return
    assert (request.path, request.headers["authorization"]) == (
        f"/v21.0/{kit.account_id}/messages", f"Bearer {ACCESS_TOKEN}")
    if kit.kind == "whatsapp":
        assert (body["messaging_product"], body["to"], body["type"]) == ("whatsapp", kit.customer_id, "text")
        assert body["text"]["body"] == text
    else:
        assert body == {"recipient": {"id": kit.customer_id}, "messaging_type": "RESPONSE", "message": {"text": text}}


# One test per provider, each telling the whole story: every transactional test ends with a TRUNCATE of every
# table, which costs seconds on PostgreSQL, so the stories are not split further.
@pytest.mark.parametrize("kind", ["whatsapp", "messenger", "tiktok"])
def test_a_provider_conversation_end_to_end(stack: Stack, shop_for: Callable[[str], Shop], kind: str) -> None:
    shop = shop_for(kind)
    fake = stack.fake(kind)
    with agent_socket(shop) as socket:
        # 1. A signed webhook becomes a message in the agent's inbox: database, REST API and live websocket.
        #    The first message of a new customer reaches both endpoints at once: its two stored deliveries race
        #    in the worker's threads to create the contact, the conversation and the message.
        first = shop.kit.inbound(external_id=f"{kind}-in-1", text=QUESTION)
        with ThreadPoolExecutor(2) as pool:
            responses = list(pool.map(lambda endpoint: shop.post(first, endpoint), ["app", "channel"]))
        assert [r.status_code for r in responses] == [200, 200], [r.text for r in responses]
        live = socket.wait_for("message.received", body=QUESTION)
        inbound = Message.objects.get(channel=shop.channel, external_id=f"{kind}-in-1")
        assert (live["payload"]["message"]["id"], inbound.direction) == (inbound.pk, "inbound")
        assert inbound.conversation.identity.external_id == shop.kit.customer_id
        listed = shop.api.get("/api/v1/conversations/").json()["results"]
        assert [(c["id"], c["channel_kind"], c["unread_count"]) for c in listed] == [
            (inbound.conversation_id, kind, 1)]

        # 2. The agent's reply reaches the provider in its documented shape and is marked sent with its id.
        reply = agent_replies(shop, stack, socket, inbound.conversation_id, REPLY)
        shown = shop.api.get(f"/api/v1/conversations/{inbound.conversation_id}/messages/").json()["results"]
        assert [(m["body"], m["status"]) for m in shown] == [(QUESTION, "received"), (REPLY, "sent")]

        # 3. Receipts move it to delivered, then read. TikTok documents only the read event.
        for status, body in shop.kit.receipts(external_id=reply.external_id).items():
            assert shop.post(body, RECEIPTS_ENDPOINT[kind]).status_code == 200
            socket.wait_for("message.status_changed", id=reply.pk, status=status)
        reply.refresh_from_db()
        assert (reply.status, reply.read_at is not None) == ("read", True)

        # 4. The customer writes again; the agent answers again.
        followup = agent_replies(shop, stack, socket, inbound.conversation_id, REPLY_AGAIN)

    # 5. The customer's next message is delivered five times, shuffled with duplicated receipts for the second
    #    reply (and its echoes, where the provider sends them), to both endpoints.
    redelivery = shop.kit.inbound(external_id=f"{kind}-in-2", text=FOLLOWUP_QUESTION)
    receipts = shop.kit.receipts(external_id=followup.external_id)
    echo = shop.kit.echo(external_id=followup.external_id, text=REPLY_AGAIN)
    posts = [(redelivery, "channel" if n % 2 else "app") for n in range(5)]
    posts += [(body, endpoint) for body in receipts.values() for endpoint in ("app", "channel", "app")]
    posts += [(echo, endpoint) for endpoint in ("app", "channel")] if echo else []
    random.Random(f"{kind}-shuffle").shuffle(posts)  # seeded: a failure replays in the same order
    for body, endpoint in posts:
        response = shop.post(body, endpoint)
        assert response.status_code == 200, response.text

    def settled() -> bool:
        followup.refresh_from_db()
        return followup.status == "read" and not InboundWebhook.objects.filter(status="received").exists()

    wait_until(settled, timeout=20, message="every delivery processed and the second reply read")
    assert Message.objects.filter(channel=shop.channel, external_id=f"{kind}-in-2").count() == 1
    assert Message.objects.filter(channel=shop.channel, body=REPLY_AGAIN).count() == 1  # echoes stored once
    assert Message.objects.filter(channel=shop.channel).count() == 4  # two from the customer, two replies
    assert not InboundWebhook.objects.filter(status="failed").exists()
    # A body repeated to the same endpoint is stored once: one delivery per distinct (body, endpoint).
    distinct = {(body, endpoint) for body, endpoint in posts}
    assert InboundWebhook.objects.filter(received_at__gte=followup.created_at).count() == len(distinct)
    assert len(fake.requests) == 2  # nothing was sent twice
