"""A thin client for the TikTok Business Messaging API, on the shared :class:`ProviderHTTPClient`.

Documentation: https://business-api.tiktok.com/portal/docs?id=1832184403754242 (send a message) and the
media upload endpoint of the same Business Messaging API. Every answer is HTTP 200 with the envelope
``{"code": 0, "message": "OK", "request_id": ..., "data": {...}}``; a non-zero ``code`` is the error, so the
HTTP status alone says little. Throttling answers (``40100``, and ``40064`` "You are sending messages too
fast") are marked transient through ``should_retry_body`` so the shared client retries them with backoff.

This module knows URLs, headers and the envelope; mapping codes to reasons agents understand is the adapter's
job (``integrations/tiktok/adapter.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from switchboard.http import ProviderHTTPClient, RetryPolicy

SEND_PATH = "/open_api/v1.3/business/message/send/"
MEDIA_UPLOAD_PATH = "/open_api/v1.3/business/message/media/upload/"
MEDIA_DOWNLOAD_PATH = "/open_api/v1.3/business/message/media/download/"

RATE_LIMITED = 40100  # "Too many requests": the API's QPS limit
SENDING_TOO_FAST = 40064  # "You are sending messages too fast. Take a rest."
TRANSIENT_CODES = frozenset({RATE_LIMITED, SENDING_TOO_FAST})


class TikTokAPIError(Exception):
    """TikTok answered, but not with ``code: 0`` (or not with an envelope at all: ``code`` is then -1)."""

    def __init__(self, code: int, message: str, *, http_status: int = 200, request_id: str = ""):
        super().__init__(f"TikTok error {code}: {message}")
        self.code = code
        self.message = message
        self.http_status = http_status
        self.request_id = request_id


def envelope_code(response: httpx.Response) -> int | None:
    """The envelope's ``code`` when the body is a TikTok envelope, else ``None``."""
    try:
        body = response.json()
    except ValueError:
        return None
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def is_transient_body(response: httpx.Response) -> bool:
    """``should_retry_body`` hook: an HTTP 200 carrying a throttling code is worth another try."""
    return envelope_code(response) in TRANSIENT_CODES


class TikTokBusinessClient:
    """Calls the Business Messaging API for one business account. Use as a context manager, or ``close()``.

    ``TransportFailure`` (timeouts, 5xx, throttling after all retries) comes from the shared client unchanged;
    an answered error raises :class:`TikTokAPIError`.
    """

    def __init__(
        self,
        base_url: str,
        *,
        access_token: str,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self._http = ProviderHTTPClient(
            base_url,
            timeout=timeout,
            retry=retry,
            headers={"Access-Token": access_token},
            should_retry_body=is_transient_body,
            sleep=sleep,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> TikTokBusinessClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send_text(
        self, *, business_id: str, conversation_id: str, text: str, referenced_message_id: str = ""
    ) -> str:
        """Send a TEXT message into a conversation; return TikTok's new ``message_id``."""
        body: dict[str, Any] = {
            "business_id": business_id,
            "recipient_type": "CONVERSATION",
            "recipient": conversation_id,
            "message_type": "TEXT",
            "text": {"body": text},
        }
        if referenced_message_id:
            # TikTok documents quoting only for TEXT messages.
            body["referenced_message_info"] = {"referenced_message_id": referenced_message_id}
        return self._message_id(self._call(SEND_PATH, json=body))

    def send_image(self, *, business_id: str, conversation_id: str, media_id: str) -> str:
        """Send an IMAGE message (``media_id`` from :meth:`upload_image`); return the new ``message_id``."""
        body = {
            "business_id": business_id,
            "recipient_type": "CONVERSATION",
            "recipient": conversation_id,
            "message_type": "IMAGE",
            "image": {"media_id": media_id},
        }
        return self._message_id(self._call(SEND_PATH, json=body))

    def upload_image(self, *, business_id: str, content: bytes, filename: str, mime_type: str) -> str:
        """Upload a JPG/PNG as multipart form data; return its ``media_id`` for :meth:`send_image`."""
        data = self._call(
            MEDIA_UPLOAD_PATH,
            data={"business_id": business_id, "media_type": "IMAGE"},
            files={"file": (filename, content, mime_type)},
        )
        media_id = data.get("media_id")
        if not isinstance(media_id, str) or not media_id:
            raise TikTokAPIError(-1, "the upload answer has no data.media_id")
        return media_id

    def media_download_url(
        self, *, business_id: str, conversation_id: str, message_id: str, media_id: str, media_type: str
    ) -> str:
        """The ``download_url`` (valid about a day) of an image or video a customer sent.

        ``POST .../business/message/media/download/`` with ``business_id``, ``conversation_id``, ``message_id``,
        ``media_id`` and ``media_type`` (``IMAGE`` or ``VIDEO``); the URL wants the header ``x-user: <token>``.
        """
        data = self._call(
            MEDIA_DOWNLOAD_PATH,
            json={
                "business_id": business_id,
                "conversation_id": conversation_id,
                "message_id": message_id,
                "media_id": media_id,
                "media_type": media_type,
            },
        )
        url = data.get("download_url")
        if not isinstance(url, str) or not url:
            raise TikTokAPIError(-1, "the download answer has no data.download_url")
        return url

    def _call(self, path: str, **kwargs: Any) -> Mapping[str, Any]:
        response = self._http.post(path, **kwargs)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or envelope_code(response) is None:
            raise TikTokAPIError(-1, f"unexpected answer (HTTP {response.status_code})",
                                 http_status=response.status_code)
        code = body["code"]
        request_id = str(body.get("request_id") or "")
        if code != 0:
            raise TikTokAPIError(code, str(body.get("message") or ""), http_status=response.status_code,
                                 request_id=request_id)
        data = body.get("data")
        return data if isinstance(data, dict) else {}

    @staticmethod
    def _message_id(data: Mapping[str, Any]) -> str:
        message = data.get("message")
        message_id = message.get("message_id") if isinstance(message, dict) else None
        if not isinstance(message_id, str) or not message_id:
            raise TikTokAPIError(-1, "the send answer has no data.message.message_id")
        return message_id
