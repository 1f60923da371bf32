"""Messenger webhook payloads (tests/payloads/messenger/, from the documented examples) -> normalized events."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from integrations.channels.base import (
    Attachment,
    ConversationReferral,
    Ignored,
    InboundMessage,
    ParseError,
    ReadWatermark,
    Referral,
    StatusUpdate,
)
from integrations.messenger.adapter import MessengerAdapter
from tests.integrations.meta.support import only_message

PAGE = "682498302938465"
PSID = "6783451238412954"
AT = datetime(2016, 3, 23, 0, 25, 52, 478000, tzinfo=UTC)  # 1458692752478 ms
WATERMARK = datetime(2016, 3, 22, 17, 47, 36, 253000, tzinfo=UTC)  # 1458668856253 ms


@pytest.fixture
def parse(load_payload):
    adapter = MessengerAdapter()
    return lambda name: adapter.parse(load_payload("messenger", name))


def test_text(parse):
    assert parse("text") == [InboundMessage(
        account_id=PAGE, external_id="m_TEXT1", customer_id=PSID, sent_at=AT, kind="text", text="hello, world!",
    )]


def test_quick_reply(parse):
    message = only_message(parse("quick_reply"))
    assert (message.kind, message.text) == ("quick_reply", "Red")
    assert dict(message.metadata) == {"reply_id": "PICK_RED", "reply_title": "Red"}


def test_reply_to(parse):
    assert only_message(parse("reply")).reply_to_external_id == "m_QUOTED"


@pytest.mark.parametrize(
    ("name", "kind", "url"),
    [
        ("image", "image", "https://scontent.xx.fbcdn.net/v/photo.jpg"),
        ("audio", "audio", "https://cdn.fbsbx.com/v/audioclip.mp4"),
        ("video", "video", "https://video.xx.fbcdn.net/v/clip.mp4"),
        ("file", "document", "https://cdn.fbsbx.com/v/invoice.pdf"),
    ],
)
def test_media_attachments(parse, name, kind, url):
    message = only_message(parse(name))
    assert message.kind == kind
    assert [(a.kind, a.url) for a in message.attachments] == [(kind, url)]


def test_location(parse):
    message = only_message(parse("location"))
    assert message.kind == "location"
    assert message.attachments == (Attachment(kind="location", data={
        "type": "location", "latitude": 48.8566, "longitude": 2.3522, "title": "Pinned Location"}),)


def test_fallback_link_share(parse):
    message = only_message(parse("fallback"))
    assert (message.kind, message.text) == ("share_post", "https://shop.example.com/p/42")
    assert message.attachments[0].url == "https://shop.example.com/p/42"
    assert message.attachments[0].data["title"] == "Blue jacket"


def test_sticker_via_sticker_id(parse):
    message = only_message(parse("sticker"))
    assert message.kind == "sticker"
    assert message.attachments[0].data["sticker_id"] == "369239263222822"


def test_sticker_sent_twice_during_the_transition_is_kept_once(parse):
    message = only_message(parse("sticker_transition"))
    assert [a.kind for a in message.attachments] == ["sticker"]


def test_unknown_attachment_type_is_unsupported(parse):
    message = only_message(parse("unknown_attachment"))
    assert (message.kind, message.attachments) == ("unsupported", ())
    assert message.metadata["unsupported_attachments"] == ["appointment_booking"]


def test_echo_is_outbound_to_the_customer(parse):
    message = only_message(parse("echo"))
    assert (message.direction, message.customer_id, message.external_id) == ("outbound", PSID, "m_ECHO1")
    assert message.text == "Thanks, we'll ship today"
    assert message.metadata["app_id"] == 1517776481860111


def test_postback(parse):
    message = only_message(parse("postback"))
    assert (message.kind, message.external_id, message.text) == ("postback", "m_PB1", "Get Started")
    assert dict(message.metadata) == {"payload": "GET_STARTED", "title": "Get Started"}
    assert message.referral is None


def test_postback_referral_from_an_ad(parse):
    referral = only_message(parse("postback_referral")).referral
    assert referral == Referral(source="messenger_ad", ad_id="23851234567890123", ref="tt-campaign-42",
                                data={"source": "ADS", "type": "OPEN_THREAD"})


def test_messaging_referral_from_an_ad(parse):
    [event] = parse("referral_ad")
    assert isinstance(event, ConversationReferral)
    assert (event.account_id, event.customer_id, event.at) == (PAGE, PSID, AT)
    assert (event.referral.source, event.referral.ad_id, event.referral.ref) == (
        "messenger_ad", "23851234567890123", "tt-campaign-42")
    assert event.referral.data["ads_context_data"]["ad_title"] == "Winter jackets"
    assert event.referral.data["ads_context_data"]["product_id"] == "7788"


def test_shortlink_referral_keeps_its_source(parse):
    [event] = parse("referral_shortlink")
    assert (event.referral.source, event.referral.ref, event.referral.ad_id) == (
        "messenger_shortlink", "spring-promo", "")


def test_message_with_referral(parse):
    message = only_message(parse("message_referral"))
    assert message.text == "Is this in stock?"
    assert message.referral is not None and message.referral.ad_id == "23851234567890123"


def test_delivery_is_one_status_per_mid(parse):
    assert parse("delivery") == [
        StatusUpdate(account_id=PAGE, external_id="m_OURS1", status="delivered", at=WATERMARK, customer_id=PSID),
        StatusUpdate(account_id=PAGE, external_id="m_OURS2", status="delivered", at=WATERMARK, customer_id=PSID),
    ]


def test_delivery_without_mids_is_ignored(parse):
    [event] = parse("delivery_watermark_only")
    assert isinstance(event, Ignored) and "watermark" in event.reason


def test_read_watermark(parse):
    assert parse("read") == [ReadWatermark(account_id=PAGE, customer_id=PSID, up_to=WATERMARK)]


def test_reaction(parse):
    message = only_message(parse("reaction"))
    assert (message.kind, message.reply_to_external_id) == ("reaction", "m_OURS1")
    assert dict(message.metadata) == {"reaction": "love", "emoji": "\u2764\ufe0f", "action": "react"}


def test_reaction_id_is_stable_across_redeliveries(parse):
    assert parse("reaction")[0].external_id == parse("reaction")[0].external_id != ""


def test_unknown_event_is_ignored_with_its_name(parse):
    [event] = parse("unknown_optin")
    assert isinstance(event, Ignored)
    assert (event.reason, event.account_id) == ("messaging event 'optin' is not handled", PAGE)


def test_standby_messages_are_kept_and_marked(parse):
    message = only_message(parse("standby"))
    assert (message.external_id, message.text, message.metadata["standby"]) == ("m_SB1", "anyone there?", True)


def test_every_entry_and_event_is_returned(parse):
    events = parse("multi_entry")
    assert [type(e).__name__ for e in events] == ["InboundMessage", "InboundMessage", "ReadWatermark"]
    assert [e.account_id for e in events] == [PAGE, PAGE, "999999999999"]
    assert [e.external_id for e in events[:2]] == ["m_M1", "m_M2"]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{", "not JSON"),
        (b'"page"', "expected a JSON object"),
        (b'{"object": "whatsapp_business_account", "entry": []}', "expected 'page'"),
        (b'{"object": "page", "entry": {}}', "entry is a JSON object"),
        (b'{"object": "page", "entry": [{"messaging": []}]}', r"entry\[0\]\.id is missing"),
        (b'{"object": "page", "entry": [{"id": "1", "messaging": {}}]}', "messaging is a JSON object"),
        (b'{"object": "page", "entry": [{"id": "1", "messaging": [{"message": {"mid": "m"}}]}]}', "sender"),
        (b'{"object": "page", "entry": [{"id": "1", "messaging": [{"sender": {"id": "2"}, "timestamp": 1, '
         b'"message": {"text": "no mid"}}]}]}', "message.mid is missing"),
    ],
)
def test_unusable_bodies_raise_parse_error_with_a_reason(raw, reason):
    with pytest.raises(ParseError, match=reason):
        MessengerAdapter().parse(raw)
