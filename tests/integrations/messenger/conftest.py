from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from switchboard.http import RetryPolicy
from tests.fakes.graph import FakeGraphAPI

PAYLOADS = Path(__file__).resolve().parents[2] / "payloads"
TOKEN = "EAAG-test-token"
# Three attempts with sub-millisecond backoff: retries are exercised without slowing the suite.
FAST_RETRY = RetryPolicy(attempts=3, base_delay=0.0005, max_delay=0.001)


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
