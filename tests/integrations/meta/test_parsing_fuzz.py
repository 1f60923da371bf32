"""parse() never raises anything but ParseError, whatever the bytes: random, random JSON, or documented
payloads with wrong types, removed keys and absurd values at any depth. Each Meta provider (WhatsApp and
Messenger) gets every test below, with its own ``FUZZ`` budget of examples."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.channels.base import (
    ChannelAdapter,
    ConversationReferral,
    Ignored,
    InboundMessage,
    ParseError,
    ReadWatermark,
    StatusUpdate,
)
from integrations.messenger.adapter import MessengerAdapter
from integrations.whatsapp.adapter import WhatsAppAdapter
from tests.integrations.meta.strategies import json_values, mutated_payloads, tricky_values
from tests.integrations.meta.support import all_payloads


@dataclass(frozen=True)
class Provider:
    adapter: ChannelAdapter
    object: str  # the envelope's "object" value
    payloads: list[object]


PROVIDERS = {
    "whatsapp": Provider(WhatsAppAdapter(), "whatsapp_business_account", all_payloads("whatsapp")),
    "messenger": Provider(MessengerAdapter(), "page", all_payloads("messenger")),
}
EVENT_TYPES = (InboundMessage, StatusUpdate, ReadWatermark, ConversationReferral, Ignored)
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Every test runs once per provider; hypothesis keeps a separate budget (and database entry) per parameter.
pytestmark = pytest.mark.parametrize("provider", list(PROVIDERS.values()), ids=list(PROVIDERS))


def parse_or_reason(provider: Provider, raw: bytes) -> list[object] | str:
    """Parse, accepting only events or a ParseError with a non-empty reason; anything else fails the test."""
    try:
        events = provider.adapter.parse(raw)
    except ParseError as error:
        assert str(error), "a ParseError must say why"
        return str(error)
    assert isinstance(events, list)
    for event in events:
        assert isinstance(event, EVENT_TYPES)
        for value in vars(event).values():
            if isinstance(value, datetime):
                assert value.tzinfo is not None
    return events


def test_fixtures_are_loaded(provider):
    # Guards the fuzzers below: with no payloads they would silently test nothing.
    assert len(provider.payloads) >= 20


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes(provider, raw):
    parse_or_reason(provider, raw)


@FUZZ
@given(json_values)
def test_random_json(provider, value):
    parse_or_reason(provider, json.dumps(value).encode())


@FUZZ
@given(tricky_values)
def test_random_entry_list(provider, entry):
    parse_or_reason(provider, json.dumps({"object": provider.object, "entry": entry}).encode())


@FUZZ
@given(st.data())
def test_documented_payloads_with_wrong_types_anywhere(provider, data):
    # The strategy depends on the provider's payloads, so it is drawn inside the test.
    parse_or_reason(provider, data.draw(mutated_payloads(provider.payloads), label="raw"))


@FUZZ
@given(st.data(), st.integers(0, 3))
def test_truncated_payloads(provider, data, cut):
    raw = json.dumps(data.draw(st.sampled_from(provider.payloads), label="payload")).encode()
    parse_or_reason(provider, raw[: len(raw) // (cut + 2)])


def test_documented_payloads_parse_to_events(provider):
    for payload in provider.payloads:
        result = parse_or_reason(provider, json.dumps(payload).encode())
        assert isinstance(result, list) and result, payload
