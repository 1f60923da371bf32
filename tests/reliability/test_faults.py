"""Fault injection on the full stack: nothing accepted is lost, nothing is done twice.

daphne serves the webhooks, a real Celery worker (threads) processes them, fake Graph and TikTok servers on
loopback play the providers. While traffic flows the test

* posts every webhook (sandbox, WhatsApp, Messenger and TikTok; channel and app-level endpoints) two to five
  times, shuffled, eight at a time, each new customer writing three messages in a row (processed concurrently by
  the worker);
* makes the fakes answer 429, 5xx and hang past the client timeout for a while;
* SIGKILLs the worker while a send hangs at the fake Graph API, posts more traffic while no worker runs, and
  starts a new one (whose start also empties the Redis database: every queued task is lost, as with a Redis
  restart without persistence, so only the sweeps can finish the work);
* with ``RELIABILITY_RESTART_SERVICES=1`` only, restarts Redis and PostgreSQL (shared with everyone's tests).

``celery beat`` is played by the test: it enqueues ``integrations.sweep_pending`` and ``signals.sweep`` every
second, with ``OUTBOX_SWEEP_AFTER_SECONDS=2`` in the worker. Then it counts: every accepted inbound message
stored exactly once, one conversation per customer, every reply accepted exactly once by its provider (the
fake's records), every signal accepted exactly once at the fake TikTok Events API by ``event_id``.

Hangs at the fakes end in a failure answer (a 504 after the client gave up, a throttling envelope), not in an
accepted send: a provider that accepts a message whose answer never arrives cannot be told apart from one that
did not, and WhatsApp and Messenger offer no idempotency key. Signals repeat with the same ``event_id``, which
TikTok deduplicates; replies in that window would be sent twice (documented in tests/README.md).
"""

from __future__ import annotations

import json
import random
import subprocess
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from inbox.models import Conversation, Message, Role
from inbox.services.messages import message_send_reply
from integrations.meta import webhooks as meta_webhooks
from integrations.models import InboundWebhook, SandboxMessage
from integrations.sandbox import adapter as sandbox_adapter
from integrations.services.channels import channel_create
from integrations.tiktok import signature as tiktok_signature
from signals.models import SignalEvent
from tests.factories import MembershipFactory
from tests.fakes.graph import FakeGraphAPI, graph_error
from tests.fakes.server import Reply
from tests.fakes.tiktok import RATE_LIMITED, FakeTikTokAPI, envelope
from tests.integrations.conftest import MESSENGER_PAGE_ID, TIKTOK_BUSINESS_ID, WHATSAPP_PHONE_NUMBER_ID, payload
from tests.processes import celery_worker, daphne_server, wait_until
from tests.reliability.conftest import LONG, RESTART_SERVICES
from tests.signals.conftest import ACCESS_TOKEN as SIGNALS_TOKEN
from tests.signals.conftest import make_shop

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True), pytest.mark.timeout(600)]

APP_SECRET = "faults-app-secret"
CHANNEL_SECRET = "faults-channel-secret"
GRAPH_TOKEN = "faults-graph-token"
HTTP_TIMEOUT = 1.0
CUSTOMERS = 30 if LONG else 5  # per channel
MESSAGES_EACH = 3
WORKER_ENV = {
    "OUTBOX_SWEEP_AFTER_SECONDS": "2",
    "PROVIDER_HTTP_TIMEOUT": str(HTTP_TIMEOUT),
    "SIGNALS_RETRY_BASE_SECONDS": "0.3",
    "SIGNALS_RETRY_MAX_SECONDS": "2",
    # Longer than one batch's worst case (3 attempts of 1 s plus backoff), or a slow batch is claimed twice.
    "SIGNALS_SENDING_LEASE_SECONDS": "8",
    "META_APP_SECRET": APP_SECRET,
    "TIKTOK_CLIENT_SECRET": APP_SECRET,  # TikTok's app-level endpoint verifies with the app's client secret
}


class RecordingGraph(FakeGraphAPI):
    """The fake Graph API, also keeping the sends it *accepted* (answered 200), apart from scripted faults."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.accepted: list[dict[str, Any]] = []
        self._accept_lock = threading.Lock()

    def _send(self, account_id: str, body: Any) -> dict[str, Any]:
        answer = super()._send(account_id, body)
        with self._accept_lock:
            self.accepted.append(body)
        return answer


def _whatsapp_body(customer: str, external_id: str, text: str, *, referral: bool) -> bytes:
    doc = payload("whatsapp", "referral_ctwa" if referral else "text")
    value = doc["entry"][0]["changes"][0]["value"]
    value["contacts"][0]["wa_id"] = customer
    value["messages"][0].update({"from": customer, "id": external_id, "timestamp": str(int(time.time()))})
    value["messages"][0]["text"] = {"body": text}
    return json.dumps(doc).encode()


def _messenger_body(customer: str, external_id: str, text: str) -> bytes:
    doc = payload("messenger", "text")
    at = int(time.time() * 1000)
    entry = doc["entry"][0]
    entry["time"] = at
    entry["messaging"][0].update(sender={"id": customer}, timestamp=at, message={"mid": external_id, "text": text})
    return json.dumps(doc).encode()


def _tiktok_body(customer: str, external_id: str, text: str) -> bytes:
    doc = payload("tiktok", "im_receive_msg_text")
    content = json.loads(doc["content"])  # TikTok's content is a JSON string inside the JSON body
    content.update(conversation_id=f"conv-{customer}", message_id=external_id, timestamp=int(time.time() * 1000),
                   from_user={"id": customer}, text={"body": text})
    doc.update(create_time=int(time.time()), content=json.dumps(content))
    return json.dumps(doc).encode()


def _sandbox_body(account_id: str, customer: str, external_id: str, text: str, *, referral: bool) -> bytes:
    event: dict[str, Any] = {"type": "message", "id": external_id, "customer": {"id": customer, "name": customer},
                             "text": text, "timestamp": time.time()}
    if referral:
        event["referral"] = {"ad_id": "ad-1", "campaign_id": "camp-1", "click_id": f"E.C.P.{customer}"}
    return sandbox_adapter.message_body(account_id=account_id, events=[event])


class Traffic:
    """Builds the deliveries and remembers what was accepted, to count against at the end."""

    def __init__(self, url: str, channels: dict[str, Any], sandbox_secret: str):
        self.url, self.channels, self.sandbox_secret = url, channels, sandbox_secret
        self.expected: set[tuple[int, str]] = set()  # (channel id, provider message id) acknowledged
        self.customers: set[tuple[int, str]] = set()
        self.keyword_customers: set[tuple[int, str]] = set()  # wrote "payment": one QualifiedLead each
        self.referral_customers: set[tuple[int, str]] = set()  # came from an ad: one Contact each
        self.rng = random.Random(4242)  # seeded: a failure replays in the same order

    def wave(self, tag: str) -> list[tuple[str, bytes, dict[str, str], tuple[int, str]]]:
        posts = []
        for n in range(CUSTOMERS):
            for kind, channel in self.channels.items():
                customer = f"628{ord(tag):03d}{n:06d}" if kind == "whatsapp" else f"{kind}-{tag}{n:03d}"
                referral = n % 2 == 0 and kind in ("sandbox", "whatsapp")  # the ad referrals these payloads carry
                self.customers.add((channel.pk, customer))
                if referral:
                    self.referral_customers.add((channel.pk, customer))
                for m in range(MESSAGES_EACH):
                    external_id = f"{kind}-{tag}-{n}-{m}"
                    text = f"question {m} of {customer}" + (" about the payment" if m == 1 and n % 3 else "")
                    if "payment" in text:
                        self.keyword_customers.add((channel.pk, customer))
                    posts += self._copies(kind, channel, customer, external_id, text, referral and m == 0)
        self.rng.shuffle(posts)
        return posts

    def _copies(self, kind: str, channel: Any, customer: str, external_id: str, text: str, referral: bool) -> list:
        key = (channel.pk, external_id)
        if kind == "sandbox":
            body = _sandbox_body(channel.account_id, customer, external_id, text, referral=referral)
            headers = {sandbox_adapter.SIGNATURE_HEADER: sandbox_adapter.sign(body, self.sandbox_secret)}
            return [(f"/webhooks/sandbox/{channel.pk}/", body, headers, key)] * self.rng.randint(2, 5)
        body = {
            "whatsapp": lambda: _whatsapp_body(customer, external_id, text, referral=referral),
            "messenger": lambda: _messenger_body(customer, external_id, text),
            "tiktok": lambda: _tiktok_body(customer, external_id, text),
        }[kind]()
        copies = []
        for _ in range(self.rng.randint(2, 5)):
            # Half to the channel's own endpoint, half to the app-level one (routed by the account id inside).
            own = self.rng.random() < 0.5
            path = f"/webhooks/{kind}/{channel.pk}/" if own else f"/webhooks/{kind}/"
            copies.append((path, body, _signed(kind, body, CHANNEL_SECRET if own else APP_SECRET), key))
        return copies

    def post(self, posts: list) -> None:
        def one(item: tuple[str, bytes, dict[str, str], tuple[int, str]]) -> None:
            path, body, headers, key = item
            response = httpx.post(self.url + path, content=body, headers={"Content-Type": "application/json",
                                  **headers}, timeout=20, trust_env=False)
            assert response.status_code == 200, response.text
            self.expected.add(key)

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(one, posts))


def _signed(kind: str, body: bytes, secret: str) -> dict[str, str]:
    if kind == "tiktok":
        return {tiktok_signature.HEADER: tiktok_signature.sign(body, secret, int(time.time()))}
    return {meta_webhooks.SIGNATURE_HEADER: meta_webhooks.sign(body, secret)}


def _accepted_reply_texts(graph: RecordingGraph, tiktok: FakeTikTokAPI) -> list[str]:
    """Every reply text a fake provider (or the sandbox's customer side) accepted, once per acceptance."""
    texts = [body["text"]["body"] if "text" in body else body["message"]["text"] for body in graph.accepted]
    texts += [message["text"]["body"] for message in tiktok.messages]
    return texts + list(SandboxMessage.objects.filter(side="business").values_list("text", flat=True))


def _unrecorded_sends(graph: RecordingGraph, tiktok: FakeTikTokAPI) -> set[str]:
    """Replies a provider accepted that are not marked sent in the database yet."""
    recorded = set(Message.objects.filter(direction="outbound", status="sent").values_list("body", flat=True))
    return set(_accepted_reply_texts(graph, tiktok)) - recorded


class Beat(threading.Thread):
    """Plays ``celery beat`` with a one-second period for the two outbox sweeps."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stopped = threading.Event()

    def run(self) -> None:
        from integrations.tasks import sweep_pending
        from signals.tasks import sweep

        while not self.stopped.wait(1.0):
            try:
                sweep_pending.delay()
                sweep.delay()
            except Exception:  # noqa: BLE001 - Redis may be restarting: the next tick tries again
                pass


def _reply_to_all(agent: Any, marker: str) -> list[str]:
    texts = []
    for conversation in Conversation.objects.all():
        text = f"{marker} for conversation {conversation.pk}"
        message_send_reply(conversation=conversation, user=agent, text=text)
        texts.append(text)
    return texts


def _restart_redis() -> None:
    """The machine's own start command (.ci/run); only with RELIABILITY_RESTART_SERVICES=1."""
    subprocess.run(["redis-cli", "-h", "127.0.0.1", "shutdown", "nosave"], check=False)
    subprocess.run(["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379", "--save",
                    "", "--appendonly", "no", "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log"],
                   check=True)
    wait_until(lambda: subprocess.run(["redis-cli", "-h", "127.0.0.1", "ping"], capture_output=True).returncode == 0,
               timeout=30, message="Redis back")


def _restart_postgres() -> None:
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[0]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], check=True)
    wait_until(lambda: subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1"]).returncode == 0, timeout=60,
               message="PostgreSQL back")
    from django.db import connections

    connections.close_all()


def test_nothing_lost_or_doubled_under_kills_provider_faults_and_redeliveries() -> None:
    graph = RecordingGraph(token=GRAPH_TOKEN).start()
    tiktok = FakeTikTokAPI(tokens=[SIGNALS_TOKEN]).start()
    env = {**WORKER_ENV, "META_GRAPH_API_BASE": graph.base_url, "TIKTOK_API_BASE": tiktok.base_url}
    beat = Beat()
    try:
        shop = make_shop()  # sandbox channel, curated "payment" keyword, Contact + QualifiedLead rules
        channels = {"sandbox": shop.channel}
        for kind, account_id in (("whatsapp", WHATSAPP_PHONE_NUMBER_ID), ("messenger", MESSENGER_PAGE_ID),
                                 ("tiktok", TIKTOK_BUSINESS_ID)):
            channels[kind] = channel_create(organization=shop.organization, kind=kind, name=kind.title(),
                                            account_id=account_id, app_secret=CHANNEL_SECRET, verify_token="v",
                                            access_token=SIGNALS_TOKEN if kind == "tiktok" else GRAPH_TOKEN)
        agent = MembershipFactory(organization=shop.organization, role=Role.ADMIN, user__password=None).user
        sandbox_secret = shop.channel.credential.secrets().app_secret
        replies: list[str] = []

        with daphne_server(**env) as url:
            traffic = Traffic(url, channels, sandbox_secret)
            # Provider faults, in the order they are met: a send that hangs past the client timeout and then
            # fails (the worker is killed while it hangs), 503s, 429s with Retry-After, more hangs.
            graph.queue(Reply(status=504, body=graph_error(2), delay=HTTP_TIMEOUT * 4))
            graph.fail_next(503, times=3)
            graph.fail_next(429, times=2, body=graph_error(4), headers={"Retry-After": "1"})
            graph.queue(Reply(status=504, body=graph_error(2), delay=HTTP_TIMEOUT + 0.5), times=2)
            tiktok.queue(Reply(status=200, body=envelope(RATE_LIMITED, "Too many requests."), delay=HTTP_TIMEOUT * 4))
            tiktok.fail_next(500, times=2)
            tiktok.throttle_next(times=3)
            tiktok.queue(Reply(status=502, body={}, delay=HTTP_TIMEOUT + 0.5))

            with celery_worker(**env) as worker:
                beat.start()
                traffic.post(traffic.wave("a"))
                wait_until(lambda: Conversation.objects.exists(), timeout=30, message="a first conversation")
                replies += _reply_to_all(agent, "first reply")
                wait_until(lambda: graph.requests or tiktok.requests, timeout=30, message="a call to a provider")
                # Kill while only the scripted hang is in flight: a reply a provider accepted but the worker had
                # not yet marked sent would be sent again (the documented at-least-once window).
                wait_until(lambda: not _unrecorded_sends(graph, tiktok), timeout=30, interval=0.05,
                           message="every accepted reply marked sent")
                worker.kill()  # SIGKILL mid-task: a send or a signals batch is hanging at a fake right now
                worker.wait()
                kill_window = _unrecorded_sends(graph, tiktok)  # accepted between the check and the kill
            # No worker: deliveries are still acknowledged and stored; their tasks wait (or are lost).
            traffic.post(traffic.wave("b"))
            if RESTART_SERVICES:
                _restart_redis()
                _restart_postgres()
            with celery_worker(**env):  # also empties the Redis database: queued tasks are gone
                traffic.post(traffic.wave("a"))  # wave "a" again: every message a redelivery
                wait_until(lambda: Conversation.objects.count() == len(traffic.customers), timeout=60,
                           message="every customer's conversation")
                replies += _reply_to_all(agent, "second reply")

                def settled() -> bool:
                    return (
                        not InboundWebhook.objects.filter(status="received").exists()
                        and not Message.objects.filter(status="queued").exists()
                        and not SignalEvent.objects.exclude(status="delivered").exists()
                    )

                wait_until(settled, timeout=240 if LONG else 90, interval=0.5, message="everything processed")
        beat.stopped.set()

        # Inbound: every acknowledged message stored exactly once, nothing failed.
        stored = Counter(Message.objects.filter(direction="inbound").values_list("channel_id", "external_id"))
        assert set(stored) == traffic.expected
        assert set(stored.values()) == {1}
        assert not InboundWebhook.objects.filter(status="failed").exists()
        # One conversation per customer, though each new customer's messages were processed concurrently.
        per_customer = Counter(Conversation.objects.values_list("channel_id", "identity__external_id"))
        assert set(per_customer) == traffic.customers
        assert set(per_customer.values()) == {1}
        # Replies: each accepted exactly once by its provider, and marked sent.
        sent = Counter(_accepted_reply_texts(graph, tiktok))
        assert sorted(sent) == sorted(replies)
        assert {t for t, n in sent.items() if n > 1} <= kill_window
        assert len(kill_window) <= 1, kill_window
        assert not Message.objects.filter(direction="outbound").exclude(status="sent").exists()
        # Signals: one Contact per ad customer, one QualifiedLead per customer who wrote "payment", each
        # accepted exactly once by event_id.
        events = Counter(SignalEvent.objects.values_list("event_name", flat=True))
        assert events == {"Contact": len(traffic.referral_customers),
                          "QualifiedLead": len(traffic.keyword_customers)}
        at_server = tiktok.event_ids()
        assert {event_id for _, event_id in at_server} == set(SignalEvent.objects.values_list("event_id", flat=True))
        assert set(at_server.values()) == {1}, [k for k, n in at_server.items() if n > 1]
    finally:
        beat.stopped.set()
        graph.stop()
        tiktok.stop()
