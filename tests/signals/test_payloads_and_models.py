"""The payload builder's shape, and the outbox model's privacy by construction."""

from __future__ import annotations

import inspect
import json
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from django.db import models

from signals import payloads
from signals.models import SignalEvent

pytestmark = pytest.mark.core


def row(**overrides):
    values = dict(
        event_name="Contact",
        event_id="abc123",
        event_time=datetime(2026, 11, 23, 12, 0, tzinfo=UTC),
        ttclid="E.C.P.x1",
        flags=[],
        properties={"content_type": "conversation"},
        user_ids={"external_id": payloads.sha256_hex("Cust-1")},
    )
    values.update(overrides)
    return SimpleNamespace(**values)


def test_body_shape():
    body = payloads.build_track_body(
        [
            row(),
            row(
                event_name="QualifiedLead",
                event_id="def",
                ttclid="",
                flags=["payment", "payment"],
                properties={"note": "text", "value": 10, "currency": "usd"},
            ),
        ],
        event_source="MESSAGE",
        event_source_id="ES-1",
        partner_name="Switchboard",
        test_event_code="T1",
    )
    assert body == {
        "event_source": "MESSAGE",
        "event_source_id": "ES-1",
        "partner_name": "Switchboard",
        "test_event_code": "T1",
        "data": [
            {
                "event": "Contact",
                "event_time": 1795435200,
                "event_id": "abc123",
                "user": {"external_id": payloads.sha256_hex("cust-1"), "ttclid": "E.C.P.x1"},
                "properties": {"content_type": "conversation"},
            },
            {
                "event": "QualifiedLead",
                "event_time": 1795435200,
                "event_id": "def",
                "user": {"external_id": payloads.sha256_hex("cust-1")},
                "properties": {"value": 10.0, "currency": "USD", "flags": ["payment"]},
            },
        ],
    }
    assert json.loads(payloads.encode_body(body)) == body


def test_optional_fields_are_left_out():
    body = payloads.build_track_body(
        [row(user_ids={}, ttclid="", properties={})], event_source="MESSAGE", event_source_id="ES"
    )
    assert "test_event_code" not in body and "partner_name" not in body
    assert body["data"][0] == {"event": "Contact", "event_time": 1795435200, "event_id": "abc123", "user": {}}


def test_builder_has_no_parameter_for_text():
    parameters = set(inspect.signature(payloads.build_track_body).parameters)
    assert parameters == {"events", "event_source", "event_source_id", "partner_name", "test_event_code"}


def test_safe_properties_drop_everything_but_numbers_and_enums():
    assert (
        payloads.safe_properties(
            {"value": True, "currency": "rupiah", "content_type": "a long text", "description": "hello"}
        )
        == {}
    )


def test_signal_event_has_no_field_that_can_hold_message_text():
    allowed_json = {"flags", "properties", "user_ids"}  # written only through safe_properties / sha256 / flag names
    for field in SignalEvent._meta.get_fields():
        if not isinstance(field, models.Field):
            continue
        assert not isinstance(field, models.TextField), field.name
        if isinstance(field, models.CharField) and field.name != "last_error":  # TikTok's answer, not ours
            assert field.max_length <= 191, field.name
        if isinstance(field, models.JSONField):
            assert field.name in allowed_json, field.name
