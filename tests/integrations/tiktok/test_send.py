"""send(): against FakeTikTokAPI on loopback, asserting what reached the wire and how failures map."""

from __future__ import annotations

import pytest

from integrations.channels.base import Attachment, ChannelSecrets, OutboundMessage, ProviderResult, SendError
from integrations.tiktok.adapter import TikTokAdapter
from switchboard.http import RetryPolicy
from tests.fakes.server import Reply
from tests.fakes.tiktok import MEDIA_UPLOAD_PATH, SEND_PATH, FakeTikTokAPI, envelope

from .conftest import ACCESS_TOKEN, BUSINESS_ID, CONVERSATION_ID, CUSTOMER_ID

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def reply(text: str = "Yes, we have it in M and L.", **kwargs) -> OutboundMessage:
    return OutboundMessage(customer_id=CUSTOMER_ID, thread_id=CONVERSATION_ID, text=text, **kwargs)


def test_text_is_sent_as_documented(adapter: TikTokAdapter, secrets: ChannelSecrets, fake_tiktok: FakeTikTokAPI):
    result = adapter.send(secrets, reply())

    assert result == ProviderResult(external_id=fake_tiktok.messages[0]["message_id"])
    [sent] = fake_tiktok.requests
    assert (sent.method, sent.path) == ("POST", SEND_PATH)
    assert sent.headers["access-token"] == ACCESS_TOKEN
    assert sent.json() == {
        "business_id": BUSINESS_ID,
        "recipient_type": "CONVERSATION",
        "recipient": CONVERSATION_ID,
        "message_type": "TEXT",
        "text": {"body": "Yes, we have it in M and L."},
    }


def test_reply_to_a_message_quotes_it(adapter: TikTokAdapter, secrets: ChannelSecrets, fake_tiktok: FakeTikTokAPI):
    adapter.send(secrets, reply(reply_to_external_id="msg-text-1"))

    body = fake_tiktok.requests[0].json()
    assert body["referenced_message_info"] == {"referenced_message_id": "msg-text-1"}


def test_image_bytes_are_uploaded_then_sent(adapter: TikTokAdapter, secrets: ChannelSecrets,
                                            fake_tiktok: FakeTikTokAPI):
    image = Attachment(kind="image", mime_type="image/png", filename="jacket.png", data={"content": PNG})

    result = adapter.send(secrets, reply(text="", attachments=(image,)))

    upload, send = fake_tiktok.requests
    assert upload.path == MEDIA_UPLOAD_PATH
    assert upload.headers["access-token"] == ACCESS_TOKEN
    [media_id] = fake_tiktok.media
    assert fake_tiktok.media[media_id] == PNG
    assert send.path == SEND_PATH
    assert send.json()["message_type"] == "IMAGE"
    assert send.json()["image"] == {"media_id": media_id}
    assert result.external_id == fake_tiktok.messages[0]["message_id"]


def test_image_with_a_media_id_is_sent_without_upload(adapter: TikTokAdapter, secrets: ChannelSecrets,
                                                      fake_tiktok: FakeTikTokAPI):
    fake_tiktok.media["tt-media-known"] = PNG

    adapter.send(secrets, reply(text="", attachments=(Attachment(kind="image", media_id="tt-media-known"),)))

    assert [r.path for r in fake_tiktok.requests] == [SEND_PATH]


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (reply(text="x" * 6001), "too long"),
        (reply(text="   "), "empty"),
        (OutboundMessage(customer_id=CUSTOMER_ID, text="hi"), "no TikTok conversation"),
        (reply(attachments=(Attachment(kind="image", media_id="m"),)), "text and an image"),
        (reply(text="", attachments=(Attachment(kind="video", media_id="v"),)), "only send images"),
        (reply(text="", attachments=(Attachment(kind="image", url="https://example.com/a.jpg"),)), "no content"),
        (reply(text="", attachments=(Attachment(kind="image", mime_type="image/gif", data={"content": b"G"}),)),
         "JPG or PNG"),
        (reply(template={"name": "welcome"}), "no message templates"),
    ],
)
def test_refused_before_calling_tiktok(adapter: TikTokAdapter, secrets: ChannelSecrets,
                                       fake_tiktok: FakeTikTokAPI, message: OutboundMessage, reason: str):
    with pytest.raises(SendError, match=reason) as error:
        adapter.send(secrets, message)

    assert error.value.retryable is False
    assert fake_tiktok.requests == []


def test_6000_characters_are_allowed(adapter: TikTokAdapter, secrets: ChannelSecrets, fake_tiktok: FakeTikTokAPI):
    adapter.send(secrets, reply(text="é" * 6000))

    assert len(fake_tiktok.messages[0]["text"]["body"]) == 6000


def test_throttled_then_accepted_is_retried(adapter: TikTokAdapter, secrets: ChannelSecrets,
                                            fake_tiktok: FakeTikTokAPI, sleeps: list[float]):
    fake_tiktok.throttle_next(times=2)

    result = adapter.send(secrets, reply())

    assert len(fake_tiktok.requests_to(SEND_PATH)) == 3
    assert len(sleeps) == 2
    assert len(fake_tiktok.messages) == 1
    assert result.external_id == fake_tiktok.messages[0]["message_id"]


@pytest.mark.parametrize("code", [40100, 40064])
def test_throttled_until_retries_are_spent_is_retryable(adapter: TikTokAdapter, secrets: ChannelSecrets,
                                                        fake_tiktok: FakeTikTokAPI, code: int):
    fake_tiktok.error_next(code, "You are sending messages too fast. Take a rest.", times=3)

    with pytest.raises(SendError) as error:
        adapter.send(secrets, reply())

    assert (error.value.reason, error.value.code, error.value.retryable) == ("sending too fast", str(code), True)
    assert len(fake_tiktok.requests) == 3
    assert fake_tiktok.messages == []


def test_wrong_access_token_is_mapped(adapter: TikTokAdapter, fake_tiktok: FakeTikTokAPI):
    stale = ChannelSecrets(account_id=BUSINESS_ID, access_token="revoked-token")

    with pytest.raises(SendError) as error:
        adapter.send(stale, reply())

    assert (error.value.reason, error.value.code, error.value.retryable) == (
        "access token invalid or expired", "40105", False)
    assert len(fake_tiktok.requests) == 1  # a permanent error is not retried


def test_permission_error_40001_is_mapped_as_a_token_problem(adapter: TikTokAdapter, secrets: ChannelSecrets,
                                                             fake_tiktok: FakeTikTokAPI):
    fake_tiktok.error_next(40001, "No permission to operate.")

    with pytest.raises(SendError, match="access token invalid or expired"):
        adapter.send(secrets, reply())


def test_unknown_error_keeps_tiktoks_words(adapter: TikTokAdapter, secrets: ChannelSecrets,
                                           fake_tiktok: FakeTikTokAPI):
    fake_tiktok.error_next(51065, "System error, retry later.")

    with pytest.raises(SendError) as error:
        adapter.send(secrets, reply())

    assert error.value.reason == "TikTok error 51065: System error, retry later."
    assert error.value.retryable is False


def test_configured_quota_code_is_explained(fake_tiktok: FakeTikTokAPI, secrets: ChannelSecrets):
    fake_tiktok.enforce_reply_limit = True
    fake_tiktok.limit_error_code = 40999
    adapter = TikTokAdapter(api_base=fake_tiktok.base_url, timeout=0.5, sleep=lambda _: None,
                            quota_error_codes=[40999], window_error_codes=[40998])
    for _ in range(10):
        adapter.send(secrets, reply())

    with pytest.raises(SendError, match="message quota reached: the customer must reply first"):
        adapter.send(secrets, reply())

    fake_tiktok.customer_replied(CONVERSATION_ID)
    adapter.send(secrets, reply())
    assert len(fake_tiktok.messages) == 11


def test_configured_window_code_is_explained(adapter: TikTokAdapter, fake_tiktok: FakeTikTokAPI,
                                             secrets: ChannelSecrets):
    windowed = TikTokAdapter(api_base=fake_tiktok.base_url, timeout=0.5, window_error_codes=[40998])
    fake_tiktok.error_next(40998, "Outside the messaging window.")

    with pytest.raises(SendError, match="outside the 48-hour window"):
        windowed.send(secrets, reply())


def test_5xx_until_retries_are_spent_is_retryable(adapter: TikTokAdapter, secrets: ChannelSecrets,
                                                  fake_tiktok: FakeTikTokAPI):
    fake_tiktok.fail_next(503, times=3)

    with pytest.raises(SendError) as error:
        adapter.send(secrets, reply())

    assert error.value.retryable is True
    assert error.value.code == "503"
    assert len(fake_tiktok.requests) == 3


def test_5xx_then_success_is_retried(adapter: TikTokAdapter, secrets: ChannelSecrets, fake_tiktok: FakeTikTokAPI):
    fake_tiktok.fail_next(502)

    adapter.send(secrets, reply())

    assert len(fake_tiktok.requests) == 2
    assert len(fake_tiktok.messages) == 1


def test_slow_answer_times_out_and_is_retryable(secrets: ChannelSecrets):
    slow = FakeTikTokAPI(tokens=[ACCESS_TOKEN]).start()  # its own server: the late answers must land nowhere
    try:
        adapter = TikTokAdapter(api_base=slow.base_url, timeout=0.2, retry=RetryPolicy(attempts=2),
                                sleep=lambda _: None)
        slow.delay_next(1.0, times=2)

        with pytest.raises(SendError, match="did not answer in time") as error:
            adapter.send(secrets, reply())

        assert error.value.retryable is True
        assert len(slow.requests) == 2
    finally:
        slow.stop()


def test_answer_without_envelope_is_a_clear_error(adapter: TikTokAdapter, secrets: ChannelSecrets,
                                                  fake_tiktok: FakeTikTokAPI):
    fake_tiktok.queue(Reply(status=200, body=b"<html>maintenance</html>", headers={"Content-Type": "text/html"}))

    with pytest.raises(SendError, match="unexpected answer"):
        adapter.send(secrets, reply())


def test_envelope_ok_without_message_id_is_an_error(adapter: TikTokAdapter, secrets: ChannelSecrets,
                                                    fake_tiktok: FakeTikTokAPI):
    fake_tiktok.queue(Reply(status=200, body=envelope(0, "OK", {"message": {}})))

    with pytest.raises(SendError, match="no data.message.message_id"):
        adapter.send(secrets, reply())


def test_base_url_and_timeout_default_to_settings(settings, fake_tiktok: FakeTikTokAPI, secrets: ChannelSecrets):
    settings.TIKTOK_API_BASE = fake_tiktok.base_url
    settings.PROVIDER_HTTP_TIMEOUT = 3.0
    adapter = TikTokAdapter()

    adapter.send(secrets, reply())

    assert adapter.timeout == 3.0
    assert len(fake_tiktok.messages) == 1


def test_capabilities_state_tiktoks_rules():
    capabilities = TikTokAdapter.capabilities

    assert TikTokAdapter.kind == "tiktok"
    assert capabilities.reply_window is not None and capabilities.reply_window.total_seconds() == 48 * 3600
    assert capabilities.max_business_messages_before_reply == 10
    assert capabilities.max_text_length == 6000
    assert (capabilities.media, capabilities.templates) == (True, False)
