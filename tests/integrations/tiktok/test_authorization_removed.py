"""TikTok ``authorization.removed`` (the account withdrew our access) and received media, at the adapter."""

from __future__ import annotations

import pytest

from integrations.channels.base import Attachment, AuthorizationRevoked, MediaError, MediaRequest
from tests.integrations.tiktok.conftest import BUSINESS_ID, CONVERSATION_ID, payload_bytes

pytestmark = [pytest.mark.core]


def test_authorization_removed_is_parsed_with_its_reason(adapter):
    [event] = adapter.parse(payload_bytes("authorization_removed.json"))
    assert isinstance(event, AuthorizationRevoked)
    assert event.account_id == BUSINESS_ID
    assert event.reason == "the account disconnected Switchboard in the TikTok app"


def test_authorization_removed_with_a_broken_content_is_still_understood(adapter):
    body = b'{"event": "authorization.removed", "user_openid": "biz-1", "create_time": 1763900000, "content": "{"}'
    [event] = adapter.parse(body)
    assert isinstance(event, AuthorizationRevoked) and event.account_id == "biz-1"


def test_a_received_image_is_downloaded_through_the_download_endpoint(adapter, secrets, fake_tiktok):
    fake_tiktok.add_received_media("media-77", b"\xff\xd8 jpeg bytes", "image/jpeg")
    request = MediaRequest(
        attachment=Attachment(kind="image", media_id="media-77"), external_message_id="msg-9", thread_id=CONVERSATION_ID
    )
    download = adapter.fetch_media(secrets, request)

    assert (download.content_type, b"".join(download.chunks)) == ("image/jpeg", b"\xff\xd8 jpeg bytes")
    [asked] = fake_tiktok.requests_to("/business/message/media/download/")
    assert asked.json() == {
        "business_id": BUSINESS_ID,
        "conversation_id": CONVERSATION_ID,
        "message_id": "msg-9",
        "media_id": "media-77",
        "media_type": "IMAGE",
    }


def test_unknown_tiktok_media_is_a_media_error(adapter, secrets, fake_tiktok):
    request = MediaRequest(attachment=Attachment(kind="image", media_id="gone"), external_message_id="m", thread_id="c")
    with pytest.raises(MediaError):
        adapter.fetch_media(secrets, request)
