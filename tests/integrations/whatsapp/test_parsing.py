"""WhatsApp webhook payloads (tests/payloads/whatsapp/, from the documented examples) -> normalized events."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from integrations.channels.base import Attachment, Ignored, InboundMessage, ParseError, Referral, StatusUpdate
from integrations.whatsapp.adapter import WhatsAppAdapter
from tests.integrations.meta.support import only_message

PNID = "106540352242922"
WA = "16505551234"
SENT_AT = datetime(2025, 6, 8, 20, 59, 43, tzinfo=UTC)  # "1749416383"


@pytest.fixture
def parse(load_payload):
    adapter = WhatsAppAdapter()
    return lambda name: adapter.parse(load_payload("whatsapp", name))


def test_text(parse):
    assert parse("text") == [InboundMessage(
        account_id=PNID, external_id="wamid.HBgLTEXT", customer_id=WA, sent_at=SENT_AT, kind="text",
        text="Does it come in another color?", customer_name="Sheena Nelson",
    )]
    assert parse("text")[0].sent_at.tzinfo is UTC


def test_image_caption_is_text_and_caption(parse):
    message = only_message(parse("image"))
    assert (message.kind, message.text) == ("image", "This one, code TT-4821")
    assert message.attachments == (Attachment(
        kind="image", media_id="1003383421387256", mime_type="image/jpeg", caption="This one, code TT-4821",
        data={"sha256": "Xk3vYpkCkGOH0c7cU6RGAJ/8hI4BaCX/3xx9qbfQmGU="},
    ),)


def test_audio_voice_note(parse):
    message = only_message(parse("audio"))
    assert message.kind == "audio"
    assert message.attachments[0].media_id == "1003383421387257"
    assert message.attachments[0].mime_type == "audio/ogg; codecs=opus"
    assert message.attachments[0].data["voice"] is True


def test_video(parse):
    message = only_message(parse("video"))
    assert (message.kind, message.text, message.attachments[0].mime_type) == ("video", "unboxing", "video/mp4")


def test_document_keeps_filename(parse):
    attachment = only_message(parse("document")).attachments[0]
    assert (attachment.kind, attachment.filename, attachment.caption) == ("document", "invoice-0042.pdf", "my invoice")


def test_sticker(parse):
    message = only_message(parse("sticker"))
    assert (message.kind, message.text) == ("sticker", "")
    assert message.attachments[0].media_id == "1003383421387260"
    assert message.attachments[0].data["animated"] is False


def test_location(parse):
    message = only_message(parse("location"))
    assert message.kind == "location"
    assert dict(message.attachments[0].data) == {
        "latitude": 37.483307, "longitude": -122.148981, "name": "Philz Coffee",
        "address": "101 Forest Ave, Palo Alto, CA 94301", "url": "https://philzcoffee.com",
    }


def test_shared_contacts(parse):
    message = only_message(parse("contacts"))
    assert message.kind == "contacts"
    shared = message.attachments[0].data["contacts"]
    assert shared[0]["name"]["formatted_name"] == "Barbara J. Johnson"
    assert shared[0]["phones"][0]["wa_id"] == "19405551234"


def test_reaction_points_at_the_reacted_message(parse):
    message = only_message(parse("reaction"))
    assert (message.kind, message.reply_to_external_id) == ("reaction", "wamid.HBgLOURS")
    assert dict(message.metadata) == {"emoji": "\U0001F600", "action": "react"}


def test_removed_reaction(parse):
    assert only_message(parse("reaction_removed")).metadata["action"] == "unreact"


def test_interactive_button_reply_is_a_quick_reply(parse):
    message = only_message(parse("interactive_button_reply"))
    assert (message.kind, message.text, message.reply_to_external_id) == ("quick_reply", "Yes, confirm",
                                                                           "wamid.HBgLASKED")
    assert message.metadata["reply_id"] == "confirm-order-42"
    assert message.metadata["reply_type"] == "button_reply"


def test_interactive_list_reply(parse):
    message = only_message(parse("interactive_list_reply"))
    assert message.kind == "quick_reply"
    assert dict(message.metadata) == {"reply_id": "size-m", "reply_title": "Medium", "reply_type": "list_reply",
                                      "reply_description": "Chest 96-101 cm"}


def test_template_quick_reply_button(parse):
    message = only_message(parse("button"))
    assert (message.kind, message.text) == ("quick_reply", "Stop promotions")
    assert message.metadata["reply_id"] == "STOP_PROMOS"
    assert message.reply_to_external_id == "wamid.HBgLTEMPLATE"


def test_unsupported_type_keeps_type_and_error(parse):
    message = only_message(parse("unsupported"))
    assert message.kind == "unsupported"
    assert dict(message.metadata) == {"type": "unsupported", "error": "Message type unknown"}


def test_click_to_whatsapp_referral(parse):
    message = only_message(parse("referral_ctwa"))
    assert message.text == "Hi! I saw your ad, is the jacket available?"
    referral = message.referral
    assert isinstance(referral, Referral)
    assert (referral.source, referral.ad_id) == ("ctwa", "120226305854810726")
    assert referral.click_id.startswith("ARAkLkA8rmlFeiCktEJQ")
    assert referral.data["source_url"] == "https://fb.me/3cr4Wqqkv"
    assert referral.data["headline"] == "Winter jackets -30%"
    assert referral.data["media_type"] == "image"


def test_reply_context(parse):
    assert only_message(parse("reply_context")).reply_to_external_id == "wamid.HBgLQUOTED"


@pytest.mark.parametrize(("name", "status"), [("status_sent", "sent"), ("status_delivered", "delivered"),
                                              ("status_read", "read")])
def test_statuses(parse, name, status):
    [update] = parse(name)
    assert isinstance(update, StatusUpdate)
    assert (update.account_id, update.external_id, update.status, update.customer_id, update.error) == (
        PNID, "wamid.HBgLOURS1", status, WA, "")
    assert update.at.tzinfo is UTC


def test_failed_status_with_known_code_reads_as_the_agent_reason(parse):
    [update] = parse("status_failed")
    assert (update.status, update.error) == ("failed", "outside the 24-hour window")


def test_failed_status_with_other_code_keeps_title_and_details(parse):
    [update] = parse("status_failed_other")
    assert update.error == "131053 Media upload error: Unable to download the media from the link."


def test_other_change_fields_are_ignored_with_a_reason(parse):
    [event] = parse("field_other")
    assert isinstance(event, Ignored)
    assert "message_template_status_update" in event.reason


def test_every_entry_change_message_and_status_is_returned(parse):
    events = parse("multi_entry")
    summary = [(type(e).__name__, e.account_id, e.external_id) for e in events]
    assert summary == [
        ("InboundMessage", PNID, "wamid.HBgLM1"),
        ("InboundMessage", PNID, "wamid.HBgLM2"),
        ("StatusUpdate", PNID, "wamid.HBgLOURS9"),
        ("InboundMessage", "222222222222222", "wamid.HBgLM3"),
    ]
    assert events[-1].customer_name == "Priya"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"not json", "not JSON"),
        (b"\xff\xfe\x00", "not JSON"),
        (b"[]", "expected a JSON object"),
        (b'{"object": "page", "entry": []}', "expected 'whatsapp_business_account'"),
        (b'{"object": "whatsapp_business_account"}', "entry is missing"),
        (b'{"object": "whatsapp_business_account", "entry": [{"changes": {}}]}', "changes is a JSON object"),
        (b'{"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages"}]}]}',
         "value is missing"),
        (b'{"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": '
         b'{"metadata": {}}}]}]}', "phone_number_id is missing"),
        (b"[" * 100_000, "nested too deeply"),
    ],
)
def test_unusable_bodies_raise_parse_error_with_a_reason(raw, reason):
    with pytest.raises(ParseError, match=reason):
        WhatsAppAdapter().parse(raw)


def test_message_without_timestamp_names_the_field(load_payload):
    raw = load_payload("whatsapp", "text").replace(b'"timestamp": "1749416383"', b'"timestamp": "yesterday"')
    with pytest.raises(ParseError, match=r"messages\[0\]\.timestamp is 'yesterday', expected unix seconds"):
        WhatsAppAdapter().parse(raw)
