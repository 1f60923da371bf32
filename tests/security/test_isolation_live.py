"""Tenant isolation re-checked under load: the permission matrix run against the live server.

The access world of ``tests/access`` (organization A with a member of every role, organization B next door) is
served by a real daphne process with a real Celery worker. While a background thread posts signed sandbox
webhooks for A's two channels and B's channel at a steady rate (every text and customer name carries a marker
naming its organization and channel), each member of A fetches over HTTP, with their session cookie, every
members-only URL the resolver lists (``tests/access/test_url_coverage.py``) filled with A's ids, the matrix's
lists, counts, search, pages and CSV exports, and every id-taking URL filled with B's ids and with missing ids.

It asserts: nothing an A member receives holds a B marker, or a marker of a channel the member cannot see; B's ids
answer exactly like missing ones; nothing answers 500. An A agent with only channel one open on the websocket
receives the new messages of channel one while the traffic flows, and no event about channel two or about B.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.test import Client
from websockets.sync.client import connect

from inbox.models import Channel, Message
from integrations.sandbox import adapter as sandbox_adapter
from tests.access.factories import EXPECTED_CHANNELS, OTHER_ORG_MARKER, ROLES, World, make_world
from tests.access.test_matrix import PAGES
from tests.access.test_url_coverage import MISSING_ID, fill, members_only_routes, victim_ids
from tests.processes import celery_worker, daphne_server, wait_until

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True), pytest.mark.timeout(600)]

A_MEMBERS = [r for r in ROLES if r not in ("other_org", "deactivated", "anonymous")]
# Every members-only URL (with A's ids, and B's ids against missing ones) for the strongest member and the
# narrowest agent; the matrix's lists, pages and exports for every member. ISOLATION_LIVE_ALL_ROLES=1: every URL
# for every member (several minutes).
FULL_SWEEP = set(A_MEMBERS) if os.environ.get("ISOLATION_LIVE_ALL_ROLES") == "1" else {"owner", "agent"}
RATE = 12  # webhooks per second, over the three channels
B_MARKER = "LIVEMARK-B-"
MARKERS = {"one": "LIVEMARK-A1-", "two": "LIVEMARK-A2-", "b": B_MARKER}
# URLs a GET must not be sent to: it would end the member's session.
SKIP_ROUTES = ("logout",)
# The matrix's lists, counts, search and exports, with the query strings they take.
MATRIX_QUERIES = [
    "/api/v1/conversations/?filter=%7B%7D",
    "/api/v1/views/counts/",
    "/api/v1/search/?q=LIVEMARK",
    "/inbox/?view=all",
    "/api/v1/channels/",
    "/api/v1/orders/",
    "/commerce/orders/?format=csv",
    "/api/v1/events/?since=0",
]


class Traffic(threading.Thread):
    """Signed sandbox webhooks at a steady rate for A's channels and B's, until stopped."""

    def __init__(self, base_url: str, channels: dict[str, Channel]) -> None:
        super().__init__(daemon=True)
        self.base_url, self.channels = base_url, channels
        self.secrets = {key: channel.credential.secrets().app_secret for key, channel in channels.items()}
        self.stopped = threading.Event()
        self.sent: Counter[str] = Counter()
        self.failures: list[str] = []

    def run(self) -> None:
        keys = list(self.channels)
        n = 0
        with httpx.Client(base_url=self.base_url, timeout=10, trust_env=False) as http:
            while not self.stopped.wait(1 / RATE):
                key = keys[n % len(keys)]
                marker = f"{MARKERS[key]}{n}"
                channel = self.channels[key]
                event = {
                    "type": "message",
                    "id": f"live-{key}-{n}",
                    "customer": {"id": f"{key}-cust-{n % 4}", "name": f"{MARKERS[key]}customer"},
                    "text": f"order question {marker}",
                    "timestamp": time.time(),
                }
                body = sandbox_adapter.message_body(account_id=channel.account_id, events=[event])
                headers = {
                    "Content-Type": "application/json",
                    sandbox_adapter.SIGNATURE_HEADER: sandbox_adapter.sign(body, self.secrets[key]),
                }
                try:
                    response = http.post(f"/webhooks/sandbox/{channel.pk}/", content=body, headers=headers)
                except httpx.HTTPError as error:
                    self.failures.append(repr(error))
                else:
                    if response.status_code == 200:
                        self.sent[key] += 1
                    else:
                        self.failures.append(f"{response.status_code} {response.text[:200]}")
                n += 1


def other_org_ids(world: World) -> dict[str, int]:
    """Real objects of organization B for every kind of id a URL takes (test_url_coverage's fixtures, for B)."""
    b_world = World(
        org=world.other,
        other=world.org,
        channels={"one": world.other_conversation.channel},
        teams={},
        conversations={"open": world.other_conversation},
        other_conversation=world.conversations["open"],
        members={"owner": world.members["other_org"]},
    )
    return victim_ids(b_world)


def session_cookie(user: Any) -> str:
    browser = Client()
    browser.force_login(user)
    return browser.cookies[settings.SESSION_COOKIE_NAME].value


def forbidden_markers(role: str) -> list[str]:
    hidden = [B_MARKER, OTHER_ORG_MARKER]
    if "two" not in EXPECTED_CHANNELS[role]:
        hidden.append(MARKERS["two"])
    return hidden


@pytest.fixture
def live(transactional_db: None) -> Iterator[str]:
    with celery_worker(), daphne_server() as url:
        yield url


def test_members_of_a_see_nothing_of_b_or_of_hidden_channels_while_traffic_flows(live):
    started = time.monotonic()
    world = make_world()
    a_ids = victim_ids(world)
    b_ids = other_org_ids(world)
    missing = dict.fromkeys(a_ids, MISSING_ID)
    channels = {"one": world.channels["one"], "two": world.channels["two"], "b": world.other_conversation.channel}
    routes = [r for r in members_only_routes() if not any(skip in r for skip in SKIP_ROUTES)]
    matrix_paths = set(PAGES) | set(MATRIX_QUERIES)
    all_paths = sorted({p for p in (fill(r, a_ids) for r in routes) if p} | matrix_paths)
    foreign_all = [(fill(r, b_ids), fill(r, missing)) for r in routes if "<int:" in r and fill(r, b_ids)]
    foreign_matrix = [(b, m) for b, m in foreign_all if "conversation" in b]

    traffic = Traffic(live, channels)
    agent_cookie = session_cookie(world.user("agent"))
    ws_url = live.replace("http://", "ws://") + "/ws/inbox/"
    events: list[str] = []
    with connect(
        ws_url,
        origin=live,
        proxy=None,
        open_timeout=10,
        additional_headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={agent_cookie}"},
    ) as socket:
        hello = json.loads(socket.recv(timeout=10))
        assert hello["event"] == "hello" and hello["payload"]["channels"] == [world.channels["one"].pk]

        def listen() -> None:
            while not traffic.stopped.is_set():
                try:
                    events.append(socket.recv(timeout=0.2))
                except TimeoutError:
                    continue
                except Exception:  # noqa: BLE001 - the socket closes when the test ends
                    return

        listener = threading.Thread(target=listen, daemon=True)
        listener.start()
        traffic.start()
        try:
            wait_until(
                lambda: (
                    Message.objects.filter(body__contains=MARKERS["b"]).exists()
                    and Message.objects.filter(body__contains=MARKERS["two"]).exists()
                ),
                timeout=30,
                message="traffic stored for B and for channel two",
            )
            problems: list[str] = []
            statuses: Counter[int] = Counter()
            for role in A_MEMBERS:
                cookie = session_cookie(world.user(role))
                hidden = forbidden_markers(role)
                with httpx.Client(
                    base_url=live, timeout=20, trust_env=False, cookies={settings.SESSION_COOKIE_NAME: cookie}
                ) as http:
                    full = role in FULL_SWEEP
                    own_paths, foreign = (all_paths, foreign_all) if full else (sorted(matrix_paths), foreign_matrix)
                    for path in own_paths:
                        response = http.get(path)
                        statuses[response.status_code] += 1
                        body = response.text
                        if response.status_code >= 500:
                            problems.append(f"{role} GET {path}: {response.status_code}")
                        problems += [f"{role} GET {path}: holds {m}" for m in hidden if m in body]
                    for b_path, missing_path in foreign:
                        victim, control = http.get(b_path), http.get(missing_path)
                        statuses[victim.status_code] += 1
                        if victim.status_code != control.status_code or victim.status_code >= 500:
                            problems.append(
                                f"{role} GET {b_path}: {victim.status_code}, missing id {control.status_code}"
                            )
                        problems += [f"{role} GET {b_path}: holds {m}" for m in hidden if m in victim.text]
            # Sanity: the marker check looks at real data. The owner's search finds the live traffic of A.
            with httpx.Client(
                base_url=live,
                timeout=20,
                trust_env=False,
                cookies={settings.SESSION_COOKIE_NAME: session_cookie(world.user("owner"))},
            ) as http:
                found = http.get("/api/v1/conversations/", params={"filter": "{}"}).text
            assert MARKERS["one"] in found and MARKERS["two"] in found and B_MARKER not in found
            assert not problems, "\n".join(problems[:40])
            own_events = wait_until(
                lambda: [e for e in events if MARKERS["one"] in e],
                timeout=15,
                message="the agent's own channel on the websocket",
            )
        finally:
            traffic.stopped.set()
            traffic.join(timeout=10)
            listener.join(timeout=5)

    assert not traffic.failures, traffic.failures[:5]
    assert min(traffic.sent.values()) >= 5, traffic.sent
    assert own_events
    leaked = [e for e in events if B_MARKER in e or MARKERS["two"] in e or OTHER_ORG_MARKER in e]
    assert not leaked, leaked[:3]
    channel_ids = {json.loads(e)["payload"].get("conversation", {}).get("channel_id") for e in events}
    assert channel_ids <= {world.channels["one"].pk, None}, channel_ids
    print(  # noqa: T201 - the figures of the run, for the README
        f"\n{sum(statuses.values())} GETs by {len(A_MEMBERS)} members (full sweep: {sorted(FULL_SWEEP)}), statuses "
        f"{dict(statuses)}, webhooks {dict(traffic.sent)}, agent events {len(events)}, "
        f"{time.monotonic() - started:.1f} s"
    )
