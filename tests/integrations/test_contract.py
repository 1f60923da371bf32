"""The adapter contract: the same behaviours, run once against every channel adapter.

In the style of Django's ``SessionTestsMixin`` (``tests/sessions_tests/tests.py``): :class:`AdapterContract`
holds the behaviours every provider must show, and one small subclass per adapter says how that provider is
played (its :class:`~tests.integrations.conftest.ProviderKit`: account, deliveries from the payload files,
signature; its fake server, or none for the sandbox; the provider errors it documents and the reasons an agent
must read for them). A new adapter earns its place in the inbox by adding a subclass here.

Behaviours: verification (valid, tampered body, wrong secret, missing header), parsing of the documented text
message, garbage in -> only ``ParseError`` out, and through the service layer on the database: a delivery
received and processed twice is one message, a reply reaches the provider in its documented shape and is
marked sent with the provider's id, receipts only move it forward, and provider errors become the documented
reason on the message.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from inbox.models import Message, Role
from inbox.services.messages import message_send_reply
from integrations.channels.base import (
    ChannelAdapter,
    ChannelSecrets,
    InboundMessage,
    ParseError,
    SignatureInvalid,
    WebhookRequest,
)
from integrations.channels.registry import adapter_for
from integrations.messenger.adapter import MessengerAdapter
from integrations.models import InboundWebhook, SandboxMessage
from integrations.sandbox.adapter import SandboxAdapter
from integrations.services import outbound
from integrations.services.channels import channel_create
from integrations.services.webhooks import webhook_process, webhook_receive
from integrations.tasks import send_outbound
from integrations.tiktok.adapter import TikTokAdapter
from integrations.whatsapp.adapter import WhatsAppAdapter
from switchboard.http import RetryPolicy
from tests.factories import MembershipFactory, OrganizationFactory
from tests.fakes.graph import FakeGraphAPI
from tests.fakes.server import FakeProvider, RecordedRequest
from tests.fakes.tiktok import FakeTikTokAPI
from tests.integrations.conftest import KITS, ProviderKit

pytestmark = [pytest.mark.core]

APP_SECRET = "contract-app-secret"
VERIFY_TOKEN = "contract-verify-token"
ACCESS_TOKEN = "contract-access-token"
REPLY = "Yes, it comes in green and navy."
# Backoff the adapters may ask for between HTTP attempts, without sleeping it (three attempts, as by default).
INSTANT_RETRY = RetryPolicy(attempts=3, base_delay=0.0, max_delay=0.0)


@dataclass(frozen=True)
class ErrorCase:
    """A provider failure as the provider answers it, and what the agent must read on the message."""

    name: str
    script: Callable[[Any], None]  # makes the fake answer the next send with this failure
    reason: str
    retryable: bool


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # Each adapter subclass lists its documented provider errors; the mixin's test runs once per error.
    if "error_case" in metafunc.fixturenames:
        cases = metafunc.cls.error_cases
        metafunc.parametrize("error_case", cases, ids=[c.name for c in cases])


# One fake per provider API for the whole module: stopping a fake costs half a second of shutdown polling.
@pytest.fixture(scope="module")
def graph_fake() -> Iterator[FakeGraphAPI]:
    fake = FakeGraphAPI(token=ACCESS_TOKEN).start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def tiktok_fake() -> Iterator[FakeTikTokAPI]:
    fake = FakeTikTokAPI(tokens=[ACCESS_TOKEN]).start()
    yield fake
    fake.stop()


class AdapterContract:
    """The shared behaviours. Subclasses set ``kit`` and ``error_cases`` and implement the hooks below."""

    kit: ClassVar[ProviderKit]
    error_cases: ClassVar[list[ErrorCase]] = []
    app_level_endpoint: ClassVar[bool] = True  # does the provider deliver to the app-level /webhooks/<kind>/?

    # -- hooks -----------------------------------------------------------------------------------------------
    @pytest.fixture
    def fake(self) -> FakeProvider | None:
        """The provider's API on loopback, emptied, with ``settings`` pointing at it; None for the sandbox."""
        return None

    def fast_adapter(self, fake: FakeProvider | None) -> ChannelAdapter:
        """This provider's adapter aimed at ``fake`` with instant backoff, for the retried failures."""
        raise NotImplementedError

    def assert_documented_send(self, fake: FakeProvider | None, text: str) -> str:
        """Assert the one send request ``fake`` received is the documented one; return the id it answered."""
        raise NotImplementedError

    # -- fixtures --------------------------------------------------------------------------------------------
    @property
    def adapter(self) -> ChannelAdapter:
        return adapter_for(self.kit.kind)

    @pytest.fixture
    def channel(self, db: None) -> Any:
        return channel_create(
            organization=OrganizationFactory(),
            kind=self.kit.kind,
            name=f"{self.kit.kind} contract",
            account_id=self.kit.account_id,
            app_secret=APP_SECRET,
            verify_token=VERIFY_TOKEN,
            access_token=ACCESS_TOKEN,
        )

    @pytest.fixture
    def agent(self, channel: Any) -> Any:
        # No password: hashing one costs a third of a second, and the agent never logs in here.
        membership = MembershipFactory(organization=channel.organization, role=Role.AGENT, user__password=None)
        membership.channels.add(channel)
        return membership.user

    def request(self, body: bytes, headers: dict[str, str] | None = None) -> WebhookRequest:
        return WebhookRequest(method="POST", body=body, headers={k.lower(): v for k, v in (headers or {}).items()})

    def signed(self, body: bytes, secret: str = APP_SECRET) -> WebhookRequest:
        return self.request(body, self.kit.sign(body, secret))

    def sample(self, external_id: str = "contract-msg-1") -> bytes:
        return self.kit.inbound(external_id=external_id, text="Does it come in another color?")

    def receive(self, channel: Any, body: bytes, channel_id: int | None | str = "channel") -> list[int]:
        """Post ``body`` through the service layer and process what was stored; returns the webhook ids."""
        target = channel.pk if channel_id == "channel" else channel_id
        ack = webhook_receive(provider=self.kit.kind, channel_id=target, request=self.signed(body), enqueue=_not_now)
        assert ack.status == 200, ack.detail
        assert ack.webhook_id is not None
        webhook = webhook_process(webhook_id=ack.webhook_id)
        assert webhook.status == InboundWebhook.Status.PROCESSED, webhook.error
        return [ack.webhook_id]

    def queued_reply(self, channel: Any, agent: Any, external_id: str = "contract-msg-1") -> Message:
        self.receive(channel, self.sample(external_id))
        inbound = Message.objects.get(channel=channel, external_id=external_id)
        return message_send_reply(conversation=inbound.conversation, user=agent, text=REPLY)

    # -- verification ----------------------------------------------------------------------------------------
    def test_verify_accepts_a_valid_signature(self) -> None:
        self.adapter.verify_request(self.signed(self.sample()), ChannelSecrets(app_secret=APP_SECRET))

    def test_verify_rejects_a_tampered_body(self) -> None:
        body = self.sample()
        tampered = body.replace(b"another color", b"another price")
        assert tampered != body
        with pytest.raises(SignatureInvalid):
            self.adapter.verify_request(self.request(tampered, self.kit.sign(body, APP_SECRET)),
                                        ChannelSecrets(app_secret=APP_SECRET))

    def test_verify_rejects_the_wrong_secret(self) -> None:
        with pytest.raises(SignatureInvalid):
            self.adapter.verify_request(self.signed(self.sample(), "not-the-app-secret"),
                                        ChannelSecrets(app_secret=APP_SECRET))

    def test_verify_rejects_a_missing_signature_header(self) -> None:
        with pytest.raises(SignatureInvalid, match="missing"):
            self.adapter.verify_request(self.request(self.sample()), ChannelSecrets(app_secret=APP_SECRET))

    def test_verify_refuses_when_no_secret_is_configured(self) -> None:
        with pytest.raises(SignatureInvalid):
            self.adapter.verify_request(self.signed(self.sample(), ""), ChannelSecrets(app_secret=""))

    # -- parsing ---------------------------------------------------------------------------------------------
    def test_parse_of_the_sample_is_one_text_message_with_its_ids(self) -> None:
        events = self.adapter.parse(self.sample("contract-msg-7"))

        assert len(events) == 1
        message = events[0]
        assert isinstance(message, InboundMessage)
        assert message.external_id == "contract-msg-7"
        assert message.customer_id == self.kit.customer_id
        assert message.account_id == self.kit.account_id
        assert (message.direction, message.kind, message.text) == ("inbound", "text", "Does it come in another color?")
        assert message.thread_id == self.kit.thread_id

    @pytest.mark.parametrize(
        "garbage",
        [b"", b"garbage", b"\xff\xfe\x00", b"[]", b"null", b"42", b'"text"', b"{}", b'{"entry": 5}',
         b'{"object": "page", "entry": [null]}', b'{"object": "whatsapp_business_account", "entry": [{}]}',
         b'{"event": "im_receive_msg", "content": "{not json"}', b'{"account_id": 1, "events": [1]}'],
    )
    def test_parse_of_garbage_raises_only_parse_error(self, garbage: bytes) -> None:
        try:
            events = self.adapter.parse(garbage)
        except ParseError as exc:
            assert str(exc)  # a reason an admin can read
        else:
            assert isinstance(events, list)

    # One test function shared by every adapter's class: each class is its own "executor", which is intended.
    @hypothesis_settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.differing_executors])
    @given(data=st.data())
    def test_parse_of_a_mutated_sample_raises_only_parse_error(self, data: st.DataObject) -> None:
        document = json.loads(self.sample())
        path = data.draw(st.sampled_from(_paths(document)), label="path")
        mutated = _replace(document, path, data.draw(JSON_VALUES, label="value"))
        try:
            events = self.adapter.parse(json.dumps(mutated).encode())
        except ParseError:
            return
        assert isinstance(events, list)

    # -- through the service layer ---------------------------------------------------------------------------
    def test_a_delivery_received_and_processed_twice_is_one_message(self, channel: Any) -> None:
        body = self.sample()
        first = webhook_receive(provider=self.kit.kind, channel_id=channel.pk, request=self.signed(body))
        again = webhook_receive(provider=self.kit.kind, channel_id=channel.pk, request=self.signed(body))
        assert (first.status, again.status, again.duplicate) == (200, 200, True)
        assert again.webhook_id == first.webhook_id

        webhook_process(webhook_id=first.webhook_id)
        webhook_process(webhook_id=first.webhook_id)

        message = Message.objects.get()
        assert (message.external_id, message.direction, message.status) == ("contract-msg-1", "inbound", "received")
        assert message.conversation.identity.external_id == self.kit.customer_id
        assert InboundWebhook.objects.get().status == InboundWebhook.Status.PROCESSED

    def test_a_delivery_that_fails_verification_stores_nothing(self, channel: Any) -> None:
        ack = webhook_receive(provider=self.kit.kind, channel_id=channel.pk,
                              request=self.signed(self.sample(), "not-the-app-secret"))
        assert ack.status in (401, 403)
        assert not InboundWebhook.objects.exists() and not Message.objects.exists()

    def test_the_app_level_endpoint_routes_by_account_and_dedupes_messages(self, channel: Any, settings: Any) -> None:
        if not self.app_level_endpoint:
            pytest.skip(f"{self.kit.kind} has no app-level endpoint")
        settings.META_APP_SECRET = settings.TIKTOK_CLIENT_SECRET = APP_SECRET
        body = self.sample()
        # The same message reaches us through both endpoints: two stored deliveries, one message.
        self.receive(channel, body, channel_id=None)
        self.receive(channel, body)

        assert InboundWebhook.objects.filter(channel=None).count() == 1
        assert Message.objects.get().channel == channel

    def test_the_app_level_endpoint_acknowledges_a_repeated_delivery_once(self, channel: Any, settings: Any) -> None:
        if not self.app_level_endpoint:
            pytest.skip(f"{self.kit.kind} has no app-level endpoint")
        settings.META_APP_SECRET = settings.TIKTOK_CLIENT_SECRET = APP_SECRET
        body = self.sample()
        acks = [webhook_receive(provider=self.kit.kind, channel_id=None, request=self.signed(body), enqueue=_not_now)
                for _ in range(3)]

        assert [(a.status, a.duplicate) for a in acks] == [(200, False), (200, True), (200, True)]
        assert InboundWebhook.objects.count() == 1

    def test_a_reply_reaches_the_provider_in_its_documented_shape(self, channel: Any, agent: Any, fake: Any) -> None:
        reply = self.queued_reply(channel, agent)
        assert reply.status == Message.Status.QUEUED

        assert send_outbound.apply(args=[reply.pk]).get() == "sent"

        reply.refresh_from_db()
        provider_id = self.assert_documented_send(fake, REPLY)
        assert (reply.status, reply.external_id, reply.error_reason) == ("sent", provider_id, "")
        assert reply.send_attempts == 1
        # Sending again (a duplicate task) sends nothing more.
        assert send_outbound.apply(args=[reply.pk]).get() == "skipped"
        self.assert_documented_send(fake, REPLY)

    def test_receipts_move_the_reply_forward_only(self, channel: Any, agent: Any, fake: Any) -> None:
        reply = self.queued_reply(channel, agent)
        send_outbound.apply(args=[reply.pk]).get()
        reply.refresh_from_db()
        receipts = self.kit.receipts(external_id=reply.external_id)

        for status in reversed(list(receipts)):  # read first, then the late delivery receipt
            self.receive(channel, receipts[status])

        reply.refresh_from_db()
        assert reply.status == Message.Status.READ and reply.read_at is not None

    def test_a_provider_error_is_the_documented_reason_on_the_message(
        self, channel: Any, agent: Any, fake: Any, monkeypatch: pytest.MonkeyPatch, error_case: ErrorCase
    ) -> None:
        # The registry's shared adapter sleeps real backoff between attempts; the contract hands the outbound
        # service the same adapter class configured with instant backoff, aimed at the same fake.
        monkeypatch.setattr(outbound, "adapter_for", lambda kind: self.fast_adapter(fake))
        reply = self.queued_reply(channel, agent)

        error_case.script(fake)
        outcome = outbound.outbound_send(message_id=reply.pk)
        reply.refresh_from_db()
        if error_case.retryable:
            # Retried later by the task (with backoff), and only marked failed on the final attempt.
            assert (outcome.status, outcome.reason, reply.status) == ("retry", error_case.reason, "queued")
            error_case.script(fake)
            outcome = outbound.outbound_send(message_id=reply.pk, final_attempt=True)
            reply.refresh_from_db()
        assert (outcome.status, reply.status, reply.error_reason) == ("failed", "failed", error_case.reason)
        assert reply.external_id is None


# -- one subclass per adapter ------------------------------------------------------------------------------


class TestSandboxContract(AdapterContract):
    kit = KITS["sandbox"]
    app_level_endpoint = False  # the sandbox signs with each channel's own generated secret

    def assert_documented_send(self, fake: FakeProvider | None, text: str) -> str:
        sent = SandboxMessage.objects.get()  # the simulator's mailbox is the sandbox's "provider"
        assert (sent.side, sent.customer_id, sent.text) == ("business", self.kit.customer_id, text)
        return sent.external_id

    def fast_adapter(self, fake: FakeProvider | None) -> ChannelAdapter:
        return SandboxAdapter()


def _graph_errors(window: dict[str, Any], throttled: int, unavailable: dict[str, Any]) -> list[ErrorCase]:
    from integrations.meta.errors import OUTSIDE_WINDOW, RECIPIENT_UNAVAILABLE, TOO_FAST

    return [
        ErrorCase("outside-window", lambda fake: fake.fail_with_graph_error(**window), OUTSIDE_WINDOW, False),
        # Throttling is answered to every attempt of the HTTP client, so the send gives up and is retried later.
        ErrorCase("too-fast", lambda fake: fake.fail_with_graph_error(throttled, times=3), TOO_FAST, True),
        ErrorCase("unavailable", lambda fake: fake.fail_with_graph_error(**unavailable), RECIPIENT_UNAVAILABLE, False),
    ]


class MetaContract(AdapterContract):
    """WhatsApp and Messenger share the Graph API fake."""

    @pytest.fixture
    def fake(self, graph_fake: FakeGraphAPI, settings: Any) -> FakeGraphAPI:
        graph_fake.reset()
        settings.META_GRAPH_API_BASE = graph_fake.base_url
        return graph_fake

    def the_send(self, fake: FakeGraphAPI) -> tuple[RecordedRequest, dict[str, Any]]:
        [request] = fake.requests
        assert request.method == "POST"
        assert request.path == f"/v21.0/{self.kit.account_id}/messages"
        assert request.headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
        assert request.headers["content-type"].startswith("application/json")
        return request, request.json()


class TestWhatsAppContract(MetaContract):
    kit = KITS["whatsapp"]
    error_cases = _graph_errors({"code": 131047}, 130429, {"code": 131026})

    def fast_adapter(self, fake: FakeProvider | None) -> ChannelAdapter:
        return WhatsAppAdapter(base_url=fake.base_url, retry=INSTANT_RETRY, sleep=lambda _: None)

    def assert_documented_send(self, fake: FakeProvider | None, text: str) -> str:
        _, body = self.the_send(fake)
        assert body["messaging_product"] == "whatsapp"
        assert (body["to"], body["type"], body["text"]["body"]) == (self.kit.customer_id, "text", text)
        return f"wamid.FAKE{self.kit.account_id}000001"


class TestMessengerContract(MetaContract):
    kit = KITS["messenger"]
    error_cases = _graph_errors({"code": 10, "subcode": 2018278}, 613, {"code": 551, "subcode": 1545041})

    def fast_adapter(self, fake: FakeProvider | None) -> ChannelAdapter:
        return MessengerAdapter(base_url=fake.base_url, retry=INSTANT_RETRY, sleep=lambda _: None)

    def assert_documented_send(self, fake: FakeProvider | None, text: str) -> str:
        _, body = self.the_send(fake)
        assert body["recipient"] == {"id": self.kit.customer_id}
        assert body["messaging_type"] == "RESPONSE"  # inside the standard window: no tag
        assert body["message"] == {"text": text}
        return f"m_FAKE{self.kit.account_id}000001"


class TestTikTokContract(AdapterContract):
    kit = KITS["tiktok"]
    error_cases = [
        ErrorCase("too-fast", lambda fake: fake.error_next(40064, "You are sending messages too fast.", times=3),
                  "sending too fast", True),
        ErrorCase("throttled", lambda fake: fake.throttle_next(times=3), "sending too fast", True),
        ErrorCase("token", lambda fake: fake.error_next(40105, "Access token is incorrect or has been revoked."),
                  "access token invalid or expired", False),
    ]

    @pytest.fixture
    def fake(self, tiktok_fake: FakeTikTokAPI, settings: Any) -> FakeTikTokAPI:
        tiktok_fake.reset()
        settings.TIKTOK_API_BASE = tiktok_fake.base_url
        return tiktok_fake

    def fast_adapter(self, fake: FakeProvider | None) -> ChannelAdapter:
        return TikTokAdapter(api_base=fake.base_url, retry=INSTANT_RETRY, sleep=lambda _: None)

    def assert_documented_send(self, fake: FakeProvider | None, text: str) -> str:
        [request] = fake.requests
        assert (request.method, request.path) == ("POST", "/open_api/v1.3/business/message/send/")
        assert request.headers["access-token"] == ACCESS_TOKEN
        body = request.json()
        assert body["business_id"] == self.kit.account_id
        assert (body["recipient_type"], body["recipient"]) == ("CONVERSATION", self.kit.thread_id)
        assert (body["message_type"], body["text"]) == ("TEXT", {"body": text})
        return fake.messages[0]["message_id"]


def _not_now(webhook_id: int) -> None:
    """The tests process stored deliveries themselves, at the moment they choose."""


# -- hypothesis helpers ------------------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=6,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every position in a JSON document, the root included."""
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


def _replace(node: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(node, dict):
        return {**node, head: _replace(node[head], rest, value)}
    copy = list(node)
    copy[head] = _replace(node[head], rest, value)
    return copy
