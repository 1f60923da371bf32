"""parse(): one documented payload shape per test, from tests/payloads/tiktok/."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from integrations.channels.base import Ignored, InboundMessage, ParseError, ReadWatermark
from integrations.tiktok.adapter import TikTokAdapter
from integrations.tiktok.parsing import parse

from .conftest import BUSINESS_ID, CONVERSATION_ID, CUSTOMER_ID, payload, payload_bytes


def only_message(name: str) -> InboundMessage:
    events = parse(payload_bytes(name))
    assert len(events) == 1
    assert isinstance(events[0], InboundMessage)
    return events[0]


def test_text_message_from_customer():
    message = only_message("im_receive_msg_text.json")

    assert message.account_id == BUSINESS_ID
    assert message.external_id == "msg-text-1"
    assert message.customer_id == CUSTOMER_ID
    assert message.customer_name == "jane.customer"
    assert message.thread_id == CONVERSATION_ID
    assert message.direction == "inbound"
    assert message.kind == "text"
    assert message.text == "Hi, is the blue jacket in stock?"
    assert message.sent_at == datetime(2025, 11, 23, 12, 13, 20, 123000, tzinfo=UTC)
    assert message.attachments == ()
    assert message.referral is None
    assert message.reply_to_external_id == ""


def test_image_message_keeps_the_media_id():
    message = only_message("im_receive_msg_image.json")

    assert message.kind == "image"
    assert message.text == ""
    assert [(a.kind, a.media_id) for a in message.attachments] == [("image", "media-abc-123")]


def test_sticker_message_keeps_the_sticker_url():
    message = only_message("im_receive_msg_sticker.json")

    assert message.kind == "sticker"
    assert message.attachments[0].kind == "sticker"
    assert message.attachments[0].url == "https://p16-sign.tiktokcdn.com/sticker/wave.webp"


def test_share_post_keeps_the_embed_url():
    message = only_message("im_receive_msg_share_post.json")

    assert message.kind == "share_post"
    embed_url = "https://www.tiktok.com/@acme.shop/video/7300000000000000001"
    assert message.attachments[0].url == embed_url
    assert message.attachments[0].data == {"embed_url": embed_url}


def test_type_in_capitals_is_read_case_insensitively():
    message = only_message("im_receive_msg_type_capitalized.json")

    assert message.kind == "text"
    assert message.text == "HELLO FROM CAPS"


def test_reply_names_the_referenced_message():
    message = only_message("im_receive_msg_reply.json")

    assert message.reply_to_external_id == "msg-biz-9"
    assert message.text == "Yes, that one"


def test_content_already_an_object_is_accepted():
    assert isinstance(payload("im_receive_msg_content_object.json")["content"], dict)

    message = only_message("im_receive_msg_content_object.json")

    assert message.external_id == "msg-object-1"
    assert message.text == "content as an object"


def test_unknown_message_type_is_unsupported_but_stored():
    message = only_message("im_receive_msg_unknown_type.json")

    assert message.kind == "unsupported"
    assert message.metadata["tiktok_type"] == "emoji"
    assert message.external_id == "msg-emoji-1"


def test_ad_referral_is_read_leniently():
    referral = only_message("im_receive_msg_ad_referral.json").referral

    assert referral is not None
    assert referral.source == "tiktok_ad"
    assert referral.ad_id == "1790000000000001"
    assert referral.campaign_id == "1780000000000002"
    assert referral.click_id == "E.C.P.abc123"
    assert referral.data == {"source_type": "DIRECT_MESSAGE_AD"}


def test_echo_of_business_message_is_outbound_to_the_customer():
    message = only_message("im_send_msg_echo.json")

    assert message.direction == "outbound"
    assert message.customer_id == CUSTOMER_ID
    assert message.customer_name == "jane.customer"
    assert message.external_id == "msg-biz-9"
    assert message.text == "Yes, we have it in M and L."
    assert message.metadata["source"] == "APP"


def test_echo_and_send_result_share_the_message_id_so_it_is_stored_once():
    """The echo's external_id is the id send() returned: the inbox's (channel, external_id) key dedupes it."""
    echo = only_message("im_send_msg_echo.json")
    again = only_message("im_send_msg_echo.json")

    assert echo.external_id == again.external_id == "msg-biz-9"


def test_read_event_is_a_watermark():
    events = parse(payload_bytes("im_mark_read_msg.json"))

    assert events == [
        ReadWatermark(
            account_id=BUSINESS_ID,
            customer_id=CUSTOMER_ID,
            up_to=datetime(2025, 11, 23, 12, 16, 39, 789000, tzinfo=UTC),
            thread_id=CONVERSATION_ID,
        )
    ]


def test_read_by_the_business_itself_is_ignored():
    events = parse(payload_bytes("im_mark_read_msg_by_business.json"))

    assert events == [Ignored(reason="read by the business itself", account_id=BUSINESS_ID)]


def test_unknown_event_is_ignored_with_its_name():
    events = parse(payload_bytes("unknown_event.json"))

    assert events == [Ignored(reason="unknown event 'tiktok.ping'", account_id=BUSINESS_ID)]


def test_time_falls_back_to_create_time_when_content_has_none():
    body = payload("im_receive_msg_content_object.json")
    del body["content"]["timestamp"]

    [message] = parse(json.dumps(body).encode())

    assert message.sent_at == datetime.fromtimestamp(1763900000, tz=UTC)


def test_adapter_parse_is_the_parser():
    assert TikTokAdapter().parse(payload_bytes("im_receive_msg_text.json")) == parse(
        payload_bytes("im_receive_msg_text.json")
    )


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "not valid JSON"),
        (b"\xff\xfe\x00garbage", "not valid JSON"),
        (b"[1, 2]", "array, not an object"),
        (b'{"user_openid": "b"}', "no 'event' name"),
        (b'{"event": "im_receive_msg", "content": "{}"}', "missing 'user_openid'"),
        (b'{"event": "im_receive_msg", "user_openid": "b", "content": "{not json"}', "'content' is not valid JSON"),
        (b'{"event": "im_receive_msg", "user_openid": "b", "content": 42}', "'content' is a number"),
        (b'{"event": "im_receive_msg", "user_openid": "b", "content": {"type": "text"}}', "no 'message_id'"),
        (
            b'{"event": "im_receive_msg", "user_openid": "b", "content": {"message_id": "m", "to_user": {"id": "b"}}}',
            "names no customer",
        ),
        (
            b'{"event": "im_receive_msg", "user_openid": "b",'
            b' "content": {"message_id": "m", "from_user": {"id": "c"}, "to_user": {"id": "b"}}}',
            "no usable time",
        ),
        (b'{"event": "im_mark_read_msg", "user_openid": "b", "content": {"read": {}}}', "no 'from_user.id'"),
    ],
)
def test_wrong_shapes_raise_parse_error_with_a_reason(raw: bytes, reason: str):
    with pytest.raises(ParseError, match=reason):
        parse(raw)
