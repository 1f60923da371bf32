"""Fixtures for the TikTok adapter tests: payload files, a fake TikTok API on loopback, a fast adapter."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from integrations.channels.base import ChannelSecrets
from integrations.tiktok.adapter import TikTokAdapter
from switchboard.http import RetryPolicy
from tests.fakes.tiktok import FakeTikTokAPI

PAYLOADS = Path(__file__).resolve().parents[2] / "payloads" / "tiktok"
BUSINESS_ID = "biz-openid-7f3a"
CUSTOMER_ID = "cust-openid-91c2"
CONVERSATION_ID = "conv-5d1e0a"
ACCESS_TOKEN = "test-access-token"
CLIENT_SECRET = "tiktok-client-secret-for-tests"


def payload_bytes(name: str) -> bytes:
    return (PAYLOADS / name).read_bytes()


def payload(name: str) -> dict[str, Any]:
    return json.loads(payload_bytes(name))


@pytest.fixture
def secrets() -> ChannelSecrets:
    return ChannelSecrets(account_id=BUSINESS_ID, app_secret=CLIENT_SECRET, access_token=ACCESS_TOKEN)


@pytest.fixture(scope="module")
def _tiktok_server() -> Iterator[FakeTikTokAPI]:
    # One server per module: stopping one costs half a second (the base class's shutdown poll).
    fake = FakeTikTokAPI(tokens=[ACCESS_TOKEN])
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def fake_tiktok(_tiktok_server: FakeTikTokAPI) -> FakeTikTokAPI:
    """The module's fake, emptied and back to its defaults. Tests that leave requests sleeping in the server
    (timeouts) must start their own fake, or the late answers would land in the next test."""
    fake = _tiktok_server
    fake.reset()
    fake.tokens = {ACCESS_TOKEN}
    fake.events_tokens = fake.tokens
    fake.enforce_reply_limit = False
    fake.reply_limit = 10
    fake.limit_error_code = 40064
    return fake


@pytest.fixture
def sleeps() -> list[float]:
    """The backoff delays the HTTP client asked for, instead of sleeping them."""
    return []


@pytest.fixture
def adapter(fake_tiktok: FakeTikTokAPI, sleeps: list[float]) -> TikTokAdapter:
    return TikTokAdapter(
        api_base=fake_tiktok.base_url,
        timeout=0.5,
        retry=RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05),
        sleep=sleeps.append,
        signature_tolerance=300,
    )
