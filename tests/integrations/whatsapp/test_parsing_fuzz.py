"""parse() never raises anything but ParseError, whatever the bytes: random, random JSON, or documented
payloads with wrong types, removed keys and absurd values at any depth."""

from __future__ import annotations

import json
from datetime import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.channels.base import (
    ConversationReferral,
    Ignored,
    InboundMessage,
    ParseError,
    ReadWatermark,
    StatusUpdate,
)
from integrations.whatsapp.adapter import WhatsAppAdapter
from tests.integrations.meta.strategies import json_values, mutated_payloads, tricky_values

from .conftest import all_payloads

ADAPTER = WhatsAppAdapter()
PAYLOADS = all_payloads("whatsapp")
EVENT_TYPES = (InboundMessage, StatusUpdate, ReadWatermark, ConversationReferral, Ignored)
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parse_or_reason(raw: bytes) -> list[object] | str:
    """Parse, accepting only events or a ParseError with a non-empty reason; anything else fails the test."""
    try:
        events = ADAPTER.parse(raw)
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


def test_fixtures_are_loaded():
    # Guards the fuzzers below: with no payloads they would silently test nothing.
    assert len(PAYLOADS) >= 20


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes(raw):
    parse_or_reason(raw)


@FUZZ
@given(json_values)
def test_random_json(value):
    parse_or_reason(json.dumps(value).encode())


@FUZZ
@given(tricky_values)
def test_random_entry_list(entry):
    parse_or_reason(json.dumps({"object": "whatsapp_business_account", "entry": entry}).encode())


@FUZZ
@given(mutated_payloads(PAYLOADS))
def test_documented_payloads_with_wrong_types_anywhere(raw):
    parse_or_reason(raw)


@FUZZ
@given(st.sampled_from(PAYLOADS), st.integers(0, 3))
def test_truncated_payloads(payload, cut):
    raw = json.dumps(payload).encode()
    parse_or_reason(raw[: len(raw) // (cut + 2)])


def test_documented_payloads_parse_to_events():
    for payload in PAYLOADS:
        result = parse_or_reason(json.dumps(payload).encode())
        assert isinstance(result, list) and result, payload
