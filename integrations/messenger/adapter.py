"""The Messenger Platform channel adapter: page webhooks in, Send API out.

Implements :class:`integrations.channels.base.ChannelAdapter` for ``kind = "messenger"``. ``ChannelSecrets``:
``account_id`` is the Facebook page id, ``app_secret`` signs webhooks, ``verify_token`` answers the GET
handshake, ``access_token`` is the page access token.
Documentation: https://developers.facebook.com/docs/messenger-platform (webhooks, Send API, policy: the
24-hour standard window and the 7-day ``HUMAN_AGENT`` tag).
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
from integrations.messenger.client import MAX_TEXT_LENGTH, MessengerClient, build_message_body
from integrations.messenger.parsing import parse_webhook
from integrations.meta import webhooks
from integrations.meta.errors import GraphError, send_error
from integrations.meta.graph import GraphClient
from switchboard.http import RetryPolicy


class MessengerAdapter:
    """Messenger Platform. ``base_url``/``api_version``/``timeout`` default to the Meta settings when ``None``.

    ``retry`` and ``sleep`` reach the HTTP client unchanged, so tests can make backoff instant.
    """

    kind: ClassVar[str] = "messenger"
    capabilities: ClassVar[Capabilities] = Capabilities(
        reply_window=timedelta(hours=24),
        extended_window=timedelta(days=7),  # HUMAN_AGENT tag: a person answering, up to 7 days
        max_text_length=MAX_TEXT_LENGTH,
        media=True,
        templates=False,
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
        """Every event of every entry (``messaging`` and ``standby``), in order. Pure; raises only ``ParseError``."""
        return parse_webhook(raw)

    def send(self, secrets: ChannelSecrets, message: OutboundMessage) -> ProviderResult:
        """Send text or one attachment by URL; ``message.tag`` sends as ``MESSAGE_TAG`` (e.g. ``HUMAN_AGENT``).

        Invalid messages (too long, text plus attachment, unknown tag) are refused before any HTTP call.
        """
        body = build_message_body(message)
        if not secrets.account_id:
            raise SendError("the channel has no Facebook page id")
        try:
            with self._graph(secrets) as graph:
                mid = MessengerClient(graph).send_message(secrets.account_id, body)
        except GraphError as error:
            raise send_error(error) from error
        return ProviderResult(external_id=mid)

    def _graph(self, secrets: ChannelSecrets) -> GraphClient:
        return GraphClient(
            secrets.access_token,
            base_url=self.base_url,
            api_version=self.api_version,
            timeout=self.timeout,
            retry=self.retry,
            sleep=self.sleep,
        )
