"""parse() never raises anything but ParseError, whatever it is fed (the adapter contract)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.channels.base import Ignored, InboundMessage, ParseError, ReadWatermark
from integrations.tiktok.parsing import parse

from .conftest import payload

EVENTS = ["im_receive_msg", "im_send_msg", "im_mark_read_msg", "tiktok.ping"]
FIELDS = [
    "client_key", "event", "create_time", "user_openid", "content", "type", "message_id", "conversation_id",
    "timestamp", "text", "body", "image", "media_id", "share_post", "embed_url", "sticker", "url", "from",
    "from_user", "to", "to_user", "id", "referenced_message_info", "referenced_message_id", "read",
    "last_read_timestamp", "referral", "ad_info", "ad_id", "message_tag", "source",
]

scalars = (
    st.none() | st.booleans() | st.integers() | st.integers(min_value=10**300, max_value=10**500)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30) | st.sampled_from(EVENTS + ["text", "IMAGE", "share_post", "1763900000123", "b"])
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), children, max_size=6),
    max_leaves=25,
)

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_contract(raw: bytes) -> None:
    try:
        events = parse(raw)
    except ParseError as exc:
        assert str(exc)  # a reason an admin can read
        return
    assert isinstance(events, list)
    for event in events:
        assert isinstance(event, InboundMessage | ReadWatermark | Ignored)


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes(raw: bytes):
    assert_contract(raw)


@FUZZ
@given(json_values)
def test_random_json(value: Any):
    assert_contract(json.dumps(value).encode())


@FUZZ
@given(st.sampled_from(EVENTS), json_values, st.booleans(), json_values)
def test_envelope_with_random_content(event: str, content: Any, as_string: bool, openid: Any):
    envelope = {"event": event, "user_openid": openid, "create_time": 1763900000,
                "content": json.dumps(content) if as_string else content}
    assert_contract(json.dumps(envelope).encode())


@FUZZ
@given(st.sampled_from(EVENTS), st.text(max_size=200))
def test_content_string_is_random_text(event: str, content: str):
    assert_contract(json.dumps({"event": event, "user_openid": "b", "content": content}).encode())


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    paths = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            paths += _paths(child, (*prefix, key))
    return paths


def _replace(value: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    copy = dict(value)
    copy[path[0]] = _replace(value[path[0]], path[1:], new)
    return copy


def _documented_shapes() -> list[dict]:
    shapes = []
    for name in ["im_receive_msg_text.json", "im_receive_msg_image.json", "im_receive_msg_reply.json",
                 "im_receive_msg_ad_referral.json", "im_send_msg_echo.json", "im_mark_read_msg.json"]:
        body = payload(name)
        body["content"] = json.loads(body["content"])  # fuzz inside content; re-encoded below
        shapes.append(body)
    return shapes


@FUZZ
@given(st.data(), st.sampled_from(_documented_shapes()), json_values, st.booleans())
def test_wrong_type_at_every_level_of_real_payloads(data: st.DataObject, body: dict, new: Any, encode: bool):
    path = data.draw(st.sampled_from(_paths(body)))
    mutated = _replace(body, path, new)
    if encode and isinstance(mutated.get("content"), dict):
        mutated["content"] = json.dumps(mutated["content"])
    assert_contract(json.dumps(mutated).encode())


def test_deeply_nested_json_is_a_parse_error_not_a_recursion_error():
    assert_contract(b"[" * 100_000 + b"]" * 100_000)
    assert_contract(json.dumps({"event": "im_receive_msg", "user_openid": "b",
                                "content": "[" * 100_000 + "]" * 100_000}).encode())


def test_out_of_range_timestamps_are_parse_errors():
    for stamp in [10**400, 10**300, 1e308, "9" * 19, 253402300800000 * 1000]:
        body = payload("im_receive_msg_content_object.json")
        body["content"]["timestamp"] = stamp
        body["create_time"] = stamp
        assert_contract(json.dumps(body).encode())


@FUZZ
@given(
    st.sampled_from(["timestamp", "create_time"]),
    st.integers() | st.integers(min_value=10**300, max_value=10**500) | st.floats() | st.text(max_size=25),
)
def test_any_timestamp_value(field: str, stamp: Any):
    body = payload("im_receive_msg_content_object.json")
    body["content"]["timestamp"] = stamp
    if field == "create_time":
        del body["content"]["timestamp"]
        body["create_time"] = stamp
    assert_contract(json.dumps(body).encode())
