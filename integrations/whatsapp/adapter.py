"""The WhatsApp Cloud API channel adapter: webhooks in, messages out.

Implements :class:`integrations.channels.base.ChannelAdapter` for ``kind = "whatsapp"``. ``ChannelSecrets``:
``account_id`` is the ``phone_number_id``, ``app_secret`` signs webhooks, ``verify_token`` answers the GET
handshake, ``access_token`` (a system-user token) authorizes sends.
Documentation: https://developers.facebook.com/docs/whatsapp/cloud-api (webhooks, messages, media).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import ClassVar

from integrations.channels.base import (
    Capabilities,
    ChannelSecrets,
    InboundEvent,
    OutboundMessage,
    ProviderResult,
    SendError,
    WebhookRequest,
)
from integrations.meta import webhooks
from integrations.meta.errors import GraphError, MediaFetchError, send_error
from integrations.meta.graph import GraphClient
from integrations.whatsapp.client import MAX_TEXT_LENGTH, WhatsAppClient, build_message_body
from integrations.whatsapp.parsing import parse_webhook
from switchboard.http import RetryPolicy


class WhatsAppAdapter:
    """WhatsApp Cloud API. ``base_url``/``api_version``/``timeout`` default to the Meta settings when ``None``.

    ``retry`` and ``sleep`` reach the HTTP client unchanged, so tests can make backoff instant.
    """

    kind: ClassVar[str] = "whatsapp"
    capabilities: ClassVar[Capabilities] = Capabilities(
        reply_window=timedelta(hours=24),
        max_text_length=MAX_TEXT_LENGTH,
        media=True,
        templates=True,  # approved templates are the only way to write after the 24-hour window
        sends_per_second=80,
    )

    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_version: str | None = None,
        timeout: float | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.base_url = base_url
        self.api_version = api_version
        self.timeout = timeout
        self.retry = retry
        self.sleep = sleep

    def verify_request(self, request: WebhookRequest, secrets: ChannelSecrets) -> None:
        """Raise :class:`SignatureInvalid` unless ``X-Hub-Signature-256`` signs the raw body with the app secret."""
        webhooks.verify_signature(request, secrets.app_secret)

    def verification_challenge(self, request: WebhookRequest, secrets: ChannelSecrets) -> str:
        """Echo ``hub.challenge`` for a ``subscribe`` with our verify token, else :class:`HandshakeRefused`."""
        return webhooks.answer_handshake(request, secrets.verify_token)

    def parse(self, raw: bytes) -> list[InboundEvent]:
        """Every message and status of every entry and change, in order. Pure; raises only ``ParseError``."""
        return parse_webhook(raw)

    def send(self, secrets: ChannelSecrets, message: OutboundMessage) -> ProviderResult:
        """Send text, one media attachment (by link or media id) or a template; return the ``wamid``.

        Invalid messages (too long, empty, no template name) are refused before any HTTP call.
        """
        body = build_message_body(message)
        if not secrets.account_id:
            raise SendError("the channel has no WhatsApp phone number id")
        try:
            with self._graph(secrets) as graph:
                wamid = WhatsAppClient(graph).send_message(secrets.account_id, body)
        except GraphError as error:
            raise send_error(error) from error
        return ProviderResult(external_id=wamid)

    def fetch_media_url(self, secrets: ChannelSecrets, media_id: str) -> tuple[str, str]:
        """``(url, mime_type)`` of a received media object, via ``GET /{version}/{media_id}``.

        The URL is short-lived and needs the same bearer token to download: fetch it just before use.
        """
        if not media_id:
            raise MediaFetchError("no media id")
        try:
            with self._graph(secrets) as graph:
                return WhatsAppClient(graph).media_url(media_id)
        except GraphError as error:
            mapped = send_error(error)
            raise MediaFetchError(mapped.reason, code=mapped.code, retryable=mapped.retryable) from error

    def _graph(self, secrets: ChannelSecrets) -> GraphClient:
        return GraphClient(
            secrets.access_token,
            base_url=self.base_url,
            api_version=self.api_version,
            timeout=self.timeout,
            retry=self.retry,
            sleep=self.sleep,
        )
