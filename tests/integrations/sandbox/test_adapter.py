from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from integrations.channels.base import (
    ChannelSecrets,
    Ignored,
    InboundMessage,
    ParseError,
    SignatureInvalid,
    StatusUpdate,
    WebhookRequest,
)
from integrations.sandbox.adapter import SandboxAdapter, message_body, sign

pytestmark = pytest.mark.core
adapter = SandboxAdapter()
SECRETS = ChannelSecrets(account_id="sbx-1", app_secret="s3cret")


def request(body: bytes, signature: str | None) -> WebhookRequest:
    headers = {"x-sandbox-signature": signature} if signature is not None else {}
    return WebhookRequest(method="POST", body=body, headers=headers)


def test_signature_on_the_raw_body():
    body = message_body(account_id="sbx-1", events=[])
    adapter.verify_request(request(body, sign(body, "s3cret")), SECRETS)
    with pytest.raises(SignatureInvalid, match="missing"):
        adapter.verify_request(request(body, None), SECRETS)
    with pytest.raises(SignatureInvalid, match="does not match"):
        adapter.verify_request(request(body + b" ", sign(body, "s3cret")), SECRETS)
    with pytest.raises(SignatureInvalid):
        adapter.verify_request(request(body, sign(body, "other")), SECRETS)


def test_parse_messages_statuses_and_unknown_events():
    body = message_body(
        account_id="sbx-1",
        events=[
            {
                "type": "message",
                "id": "m1",
                "customer": {"id": "c1", "name": "Ana"},
                "text": "hi",
                "timestamp": 1.5,
                "referral": {"ad_id": "ad-9", "campaign_id": "cmp"},
            },
            {"type": "status", "id": "m0", "status": "read", "timestamp": 2},
            {"type": "typing"},
        ],
    )
    message, status, ignored = adapter.parse(body)
    assert isinstance(message, InboundMessage)
    assert (message.external_id, message.customer_id, message.customer_name, message.text) == ("m1", "c1", "Ana", "hi")
    assert message.referral.ad_id == "ad-9" and message.referral.campaign_id == "cmp"
    assert isinstance(status, StatusUpdate) and status.status == "read"
    assert isinstance(ignored, Ignored) and "typing" in ignored.reason


@pytest.mark.parametrize(
    "body, reason",
    [
        (b"not json", "not JSON"),
        (b"[]", "JSON object"),
        (b'{"events": {}}', "events must be a list"),
        (b'{"events": [{"type": "message", "id": "m"}]}', "customer.id"),
        (b'{"events": [{"type": "status", "id": "m", "status": "gone"}]}', "status must be"),
    ],
)
def test_malformed_bodies_give_a_reason(body, reason):
    with pytest.raises(ParseError, match=reason):
        adapter.parse(body)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
event_like = st.fixed_dictionaries(
    {"type": st.sampled_from(["message", "status", "x"])},
    optional={
        "id": json_values,
        "customer": json_values,
        "text": json_values,
        "timestamp": json_values,
        "status": json_values,
        "referral": json_values,
    },
)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=200),
        json_values.map(lambda v: json.dumps(v).encode()),
        st.lists(event_like, max_size=4).map(lambda evs: json.dumps({"account_id": "a", "events": evs}).encode()),
    )
)
def test_parse_never_raises_anything_but_parse_error(body):
    with contextlib.suppress(ParseError):
        adapter.parse(body)
