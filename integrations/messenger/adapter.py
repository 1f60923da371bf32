"""The Messenger Platform channel adapter: page webhooks in, Send API out.

Implements :class:`integrations.channels.base.ChannelAdapter` for ``kind = "messenger"``. ``ChannelSecrets``:
``account_id`` is the Facebook page id, ``app_secret`` signs webhooks, ``verify_token`` answers the GET
handshake, ``access_token`` is the page access token.
Documentation: https://developers.facebook.com/docs/messenger-platform (webhooks, Send API, policy: the
24-hour standard window and the 7-day ``HUMAN_AGENT`` tag).
"""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from integrations.channels.base import (
    Capabilities,
    ChannelSecrets,
    InboundEvent,
    OutboundMessage,
    ProviderResult,
    SendError,
)
from integrations.messenger.client import MAX_TEXT_LENGTH, MessengerClient, build_message_body
from integrations.messenger.parsing import parse_webhook
from integrations.meta.adapter import GraphAdapter


class MessengerAdapter(GraphAdapter):
    """Messenger Platform. Constructor, webhook signature and handshake: :class:`GraphAdapter`."""

    kind: ClassVar[str] = "messenger"
    capabilities: ClassVar[Capabilities] = Capabilities(
        reply_window=timedelta(hours=24),
        extended_window=timedelta(days=7),  # HUMAN_AGENT tag: a person answering, up to 7 days
        max_text_length=MAX_TEXT_LENGTH,
        media=True,
        templates=False,
    )

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
        return self._send_with(secrets, lambda graph: MessengerClient(graph).send_message(secrets.account_id, body))
