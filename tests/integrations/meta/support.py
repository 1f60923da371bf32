"""What the Meta provider test packages share (``meta``, ``whatsapp``, ``messenger``): the fake Graph API
fixtures, the token and retry policy they are built with, and the documented payload files.

Each package's ``conftest.py`` imports the fixtures, so every package still starts its own fake server.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from integrations.channels.base import InboundEvent, InboundMessage
from integrations.meta.adapter import GraphAdapter
from switchboard.http import RetryPolicy
from tests.fakes.graph import FakeGraphAPI

PAYLOADS = Path(__file__).resolve().parents[2] / "payloads"
TOKEN = "EAAG-test-token"
# Three attempts with sub-millisecond backoff: retries are exercised without slowing the suite.
FAST_RETRY = RetryPolicy(attempts=3, base_delay=0.0005, max_delay=0.001)
AdapterT = TypeVar("AdapterT", bound=GraphAdapter)


def fast_adapter(adapter_class: type[AdapterT], graph_api: FakeGraphAPI, sleeps: list[float]) -> AdapterT:
    """An adapter talking to the fake Graph API (``v21.0``), retrying fast and recording its backoff delays."""
    return adapter_class(base_url=graph_api.base_url, api_version="v21.0", timeout=2.0, retry=FAST_RETRY,
                         sleep=sleeps.append)


@pytest.fixture(scope="package")
def graph_server() -> Iterator[FakeGraphAPI]:
    # One server per package: stopping one takes up to half a second (serve_forever's poll interval).
    fake = FakeGraphAPI(token=TOKEN).start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def graph_api(graph_server: FakeGraphAPI) -> FakeGraphAPI:
    graph_server.reset()
    return graph_server


@pytest.fixture
def sleeps() -> list[float]:
    """Backoff delays the HTTP client asked for, instead of sleeping."""
    return []


@pytest.fixture
def load_payload() -> Callable[[str, str], bytes]:
    def load(provider: str, name: str) -> bytes:
        return (PAYLOADS / provider / f"{name}.json").read_bytes()

    return load


def all_payloads(provider: str) -> list[object]:
    return [json.loads(p.read_bytes()) for p in sorted((PAYLOADS / provider).glob("*.json"))]


def only_message(events: list[InboundEvent]) -> InboundMessage:
    assert len(events) == 1
    assert isinstance(events[0], InboundMessage)
    return events[0]
