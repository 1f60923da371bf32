"""The WhatsApp Cloud API channel adapter: webhooks in, messages out.

Implements :class:`integrations.channels.base.ChannelAdapter` for ``kind = "whatsapp"``. ``ChannelSecrets``:
``account_id`` is the ``phone_number_id``, ``app_secret`` signs webhooks, ``verify_token`` answers the GET
handshake, ``access_token`` (a system-user token) authorizes sends.
Documentation: https://developers.facebook.com/docs/whatsapp/cloud-api (webhooks, messages, media).
"""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from integrations.channels.base import (
    Capabilities,
    ChannelSecrets,
    InboundEvent,
    MessageTemplate,
    OutboundMessage,
    ProviderResult,
    SendError,
)
from integrations.meta.adapter import GraphAdapter
from integrations.meta.errors import GraphError, MediaFetchError, send_error
from integrations.whatsapp.client import MAX_TEXT_LENGTH, WhatsAppClient, build_message_body
from integrations.whatsapp.parsing import parse_webhook


class WhatsAppAdapter(GraphAdapter):
    """WhatsApp Cloud API. Constructor, webhook signature and handshake: :class:`GraphAdapter`."""

    kind: ClassVar[str] = "whatsapp"
    capabilities: ClassVar[Capabilities] = Capabilities(
        reply_window=timedelta(hours=24),
        max_text_length=MAX_TEXT_LENGTH,
        media=True,
        templates=True,  # approved templates are the only way to write after the 24-hour window
        sends_per_second=80,
    )

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
        return self._send_with(secrets, lambda graph: WhatsAppClient(graph).send_message(secrets.account_id, body))

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

    def fetch_templates(self, secrets: ChannelSecrets) -> list[MessageTemplate]:
        """Every template of the channel's WhatsApp Business Account (``extra["waba_id"]``), all statuses.

        Raises :class:`SendError` with the reason (no account id, token refused, provider unreachable).
        """
        waba_id = secrets.extra.get("waba_id", "")
        if not waba_id:
            raise SendError("the channel has no WhatsApp Business Account id: add it on the channel's edit page")
        try:
            with self._graph(secrets) as graph:
                return WhatsAppClient(graph).message_templates(waba_id)
        except GraphError as error:
            raise send_error(error) from error
