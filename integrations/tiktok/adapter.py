"""TikTok direct messages (Business Messaging API) as a :class:`~integrations.channels.base.ChannelAdapter`.

Documentation: https://business-api.tiktok.com/portal/docs?id=1832184403754242 (send a message),
https://business-api.tiktok.com/portal/docs?id=1832190670631937 (direct message webhooks) and
https://business-api.tiktok.com/portal/docs?id=1759978341579777 (webhook signature).

Rules TikTok enforces and agents must understand: the customer writes first; the business may reply for 48
hours after the customer's last message, at most 10 messages before the customer answers; text up to 6,000
characters; one image (JPG/PNG up to 3 MB) *or* text per message.

Error codes are mapped to reasons agents understand. Public sources agree on ``40100`` (rate limit),
``40105`` (access token missing or wrong), ``40002`` (parameters) and ``40064`` (answered "You are sending
messages too fast. Take a rest."). Partners report that TikTok also answers ``40064`` when the 10-message or
48-hour rule blocks a message; the adapter cannot tell the two apart, so it treats ``40064`` as "sending too
fast" (retryable) and the inbox should enforce the rules itself from :attr:`TikTokAdapter.capabilities`. No
public code exists for the window or the quota alone: ``window_error_codes`` / ``quota_error_codes`` make them
configuration.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import ClassVar

from integrations.channels.base import (
    Attachment,
    Capabilities,
    ChannelSecrets,
    HandshakeRefused,
    InboundEvent,
    MediaDownload,
    MediaError,
    MediaRequest,
    OutboundMessage,
    ProviderResult,
    SendError,
    WebhookRequest,
)
from integrations.channels.media import open_download
from integrations.tiktok import parsing, signature
from integrations.tiktok.client import RATE_LIMITED, SENDING_TOO_FAST, TikTokAPIError, TikTokBusinessClient
from switchboard.http import RetryPolicy, TransportFailure

MAX_TEXT_LENGTH = 6000
MAX_IMAGE_BYTES = 3 * 1024 * 1024
IMAGE_TYPES = frozenset({"image/jpeg", "image/jpg", "image/png"})
# 40001 is "no permission": for a messaging app it means the token lacks the message scopes, and the cure is
# the same as for a bad token (reconnect the account). 40102 expired, 40104 empty, 40105 wrong or revoked.
TOKEN_ERROR_CODES = frozenset({40001, 40102, 40104, 40105})


class TikTokAdapter:
    """Verify, parse and send TikTok direct messages. Holds no state between calls; safe to share.

    Every argument is optional: ``api_base`` (default ``settings.TIKTOK_API_BASE``), ``timeout`` (default
    ``settings.PROVIDER_HTTP_TIMEOUT``) and ``signature_tolerance`` (default
    ``settings.TIKTOK_SIGNATURE_TOLERANCE_SECONDS``) are read from settings when first needed; ``retry``,
    ``sleep`` and ``clock`` let tests run fast and deterministic.
    """

    kind: ClassVar[str] = "tiktok"
    capabilities: ClassVar[Capabilities] = Capabilities(
        reply_window=timedelta(hours=48),
        max_business_messages_before_reply=10,
        max_text_length=MAX_TEXT_LENGTH,
        media=True,
        templates=False,
    )

    def __init__(
        self,
        *,
        api_base: str | None = None,
        timeout: float | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        signature_tolerance: float | None = None,
        clock: Callable[[], float] = time.time,
        window_error_codes: Iterable[int] = (),
        quota_error_codes: Iterable[int] = (),
    ):
        self._api_base = api_base
        self._timeout = timeout
        self._retry = retry
        self._sleep = sleep
        self._signature_tolerance = signature_tolerance
        self._clock = clock
        self._window_codes = frozenset(window_error_codes)
        self._quota_codes = frozenset(quota_error_codes)

    # -- settings, read late so that importing the adapter never needs configured Django --------------------
    @property
    def api_base(self) -> str:
        if self._api_base is None:
            from django.conf import settings

            return settings.TIKTOK_API_BASE
        return self._api_base

    @property
    def timeout(self) -> float:
        if self._timeout is None:
            from django.conf import settings

            return float(settings.PROVIDER_HTTP_TIMEOUT)
        return self._timeout

    @property
    def signature_tolerance(self) -> float:
        if self._signature_tolerance is None:
            from django.conf import settings

            return float(settings.TIKTOK_SIGNATURE_TOLERANCE_SECONDS)
        return self._signature_tolerance

    # -- inbound ---------------------------------------------------------------------------------------------
    def verify_request(self, request: WebhookRequest, secrets: ChannelSecrets) -> None:
        """Raise :class:`SignatureInvalid` unless ``Tiktok-Signature`` signs the raw body with the client
        secret (``secrets.app_secret``) and its timestamp is within the tolerance of our clock, either way."""
        signature.verify(
            request.body,
            request.header(signature.HEADER),
            secrets.app_secret,
            now=self._clock(),
            tolerance=self.signature_tolerance,
        )

    def verification_challenge(self, request: WebhookRequest, secrets: ChannelSecrets) -> str:
        """TikTok registers callback URLs through its portal and API, with no GET handshake to answer."""
        raise HandshakeRefused("TikTok does not use a GET handshake")

    def parse(self, raw: bytes) -> list[InboundEvent]:
        """See :func:`integrations.tiktok.parsing.parse`: pure, raises only :class:`ParseError`."""
        return parsing.parse(raw)

    # -- outbound --------------------------------------------------------------------------------------------
    def send(self, secrets: ChannelSecrets, message: OutboundMessage) -> ProviderResult:
        """Send one text or one image into the TikTok conversation ``message.thread_id``.

        Checks that need no network come first (length, shape, credentials) and raise a permanent
        :class:`SendError`. Throttling and transport failures are retried by the HTTP client, then raise
        ``SendError(retryable=True)``.
        """
        image = self._check(secrets, message)
        client = TikTokBusinessClient(
            self.api_base, access_token=secrets.access_token, timeout=self.timeout, retry=self._retry,
            sleep=self._sleep,
        )
        try:
            with client:
                if image is None:
                    message_id = client.send_text(
                        business_id=secrets.account_id,
                        conversation_id=message.thread_id,
                        text=message.text,
                        referenced_message_id=message.reply_to_external_id,
                    )
                else:
                    message_id = client.send_image(
                        business_id=secrets.account_id,
                        conversation_id=message.thread_id,
                        media_id=self._media_id(client, secrets, image),
                    )
        except TransportFailure as exc:
            code = _envelope_code(exc.body)
            if code in (RATE_LIMITED, SENDING_TOO_FAST):
                raise self._error(code, "") from exc
            raise SendError(
                f"TikTok is unreachable: {exc.reason}",
                code=str(exc.status or ""),
                retryable=True,
                retry_after=exc.retry_after,
            ) from exc
        except TikTokAPIError as exc:
            raise self._error(exc.code, exc.message) from exc
        return ProviderResult(external_id=message_id)

    def fetch_media(self, secrets: ChannelSecrets, request: MediaRequest) -> MediaDownload:
        """Open the download of an image or video a customer sent: TikTok's download endpoint gives a URL that
        wants the access token in ``x-user``. Stickers and shared posts carry a public ``url`` instead."""
        attachment = request.attachment
        if not attachment.media_id:
            if attachment.url:
                return open_download(attachment.url, headers={}, timeout=self.timeout, filename=attachment.filename)
            raise MediaError("this attachment has no TikTok media id and no URL", not_found=True)
        if not secrets.access_token or not secrets.account_id:
            raise MediaError("the TikTok account is not connected: reconnect it")
        client = TikTokBusinessClient(
            self.api_base, access_token=secrets.access_token, timeout=self.timeout, retry=self._retry,
            sleep=self._sleep,
        )
        try:
            with client:
                url = client.media_download_url(
                    business_id=secrets.account_id,
                    conversation_id=request.thread_id,
                    message_id=request.external_message_id,
                    media_id=attachment.media_id,
                    media_type="VIDEO" if attachment.kind == "video" else "IMAGE",
                )
        except TransportFailure as exc:
            raise MediaError(f"TikTok is unreachable: {exc.reason}", retryable=True) from exc
        except TikTokAPIError as exc:
            error = self._error(exc.code, exc.message)
            raise MediaError(error.reason, code=error.code, retryable=error.retryable) from exc
        return open_download(url, headers={"x-user": secrets.access_token}, timeout=self.timeout,
                             filename=attachment.filename)

    def _check(self, secrets: ChannelSecrets, message: OutboundMessage) -> Attachment | None:
        """Refuse what TikTok would refuse anyway, before spending a request (and a message of the quota)."""
        if not secrets.access_token or not secrets.account_id:
            raise SendError("the TikTok account is not connected: reconnect it")
        if not message.thread_id:
            raise SendError("no TikTok conversation to reply to: the customer must write first")
        if message.template is not None:
            raise SendError("TikTok has no message templates")
        if len(message.attachments) > 1:
            raise SendError("TikTok sends one image per message: send the images one by one")
        if message.attachments and message.text:
            raise SendError("TikTok cannot send text and an image in one message: send them separately")
        if message.attachments:
            image = message.attachments[0]
            if image.kind != "image":
                raise SendError(f"TikTok can only send images, not {image.kind}")
            return image
        if not message.text.strip():
            raise SendError("the message is empty")
        if len(message.text) > MAX_TEXT_LENGTH:
            raise SendError(f"text too long: {len(message.text)} characters, TikTok allows {MAX_TEXT_LENGTH}")
        return None

    @staticmethod
    def _media_id(client: TikTokBusinessClient, secrets: ChannelSecrets, image: Attachment) -> str:
        """An already uploaded ``media_id``, or upload the bytes in ``data["content"]``.

        Fetching ``image.url`` is deliberately not done here: the adapter stays free of arbitrary downloads,
        and whoever stored the file hands over its bytes.
        """
        if image.media_id:
            return image.media_id
        content = image.data.get("content")
        if not isinstance(content, bytes | bytearray) or not content:
            raise SendError("the image has no TikTok media id and no content to upload")
        mime_type = (image.mime_type or "image/jpeg").lower()
        if mime_type not in IMAGE_TYPES:
            raise SendError(f"TikTok accepts JPG or PNG images, not {mime_type}")
        if len(content) > MAX_IMAGE_BYTES:
            raise SendError("the image is larger than TikTok's 3 MB limit")
        filename = image.filename or ("image.png" if mime_type == "image/png" else "image.jpg")
        return client.upload_image(
            business_id=secrets.account_id, content=bytes(content), filename=filename, mime_type=mime_type
        )

    def _error(self, code: int, message: str) -> SendError:
        if code in (RATE_LIMITED, SENDING_TOO_FAST):
            return SendError("sending too fast", code=str(code), retryable=True)
        if code in TOKEN_ERROR_CODES:
            return SendError("access token invalid or expired", code=str(code))
        if code in self._window_codes:
            return SendError("outside the 48-hour window", code=str(code))
        if code in self._quota_codes:
            return SendError("message quota reached: the customer must reply first", code=str(code))
        return SendError(f"TikTok error {code}: {message or 'no message'}", code=str(code))


def _envelope_code(body: object) -> int | None:
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, int) and not isinstance(code, bool) else None
