"""What the Meta channel adapters (WhatsApp Cloud API, Messenger Platform) share: the Graph settings they are
built with, the ``X-Hub-Signature-256`` check, the ``hub.*`` handshake and a Graph client per channel token.

Each provider subclasses :class:`GraphAdapter` and adds ``kind``, ``capabilities``, ``parse`` and ``send``, so
the pair implements :class:`integrations.channels.base.ChannelAdapter`.
Documentation: https://developers.facebook.com/docs/graph-api/webhooks/getting-started and
https://developers.facebook.com/docs/graph-api/overview
"""

from __future__ import annotations

import time
from collections.abc import Callable

from integrations.channels.base import (
    ChannelSecrets,
    MediaDownload,
    MediaError,
    MediaRequest,
    ProviderResult,
    WebhookRequest,
)
from integrations.channels.media import open_download
from integrations.meta import webhooks
from integrations.meta.errors import GraphError, MediaFetchError, send_error
from integrations.meta.graph import GraphClient
from switchboard.http import RetryPolicy


class GraphAdapter:
    """Base of the Graph API adapters. ``base_url``/``api_version``/``timeout`` default to the Meta settings
    when ``None``.

    ``retry`` and ``sleep`` reach the HTTP client unchanged, so tests can make backoff instant.
    """

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

    def fetch_media(self, secrets: ChannelSecrets, request: MediaRequest) -> MediaDownload:
        """Open the download of a received attachment.

        With a media id (WhatsApp): ``GET /{version}/{media-id}`` gives a short-lived ``url`` that wants the same
        bearer token. Without one (Messenger): the attachment's own ``payload.url`` from the webhook, a CDN link
        that needs no token (so none is sent to it).
        """
        attachment = request.attachment
        if attachment.media_id:
            try:
                with self._graph(secrets) as graph:
                    answer = graph.get(graph.path(attachment.media_id))
            except GraphError as error:
                mapped = send_error(error)
                # Graph answers an unknown or expired media id with error 100 (HTTP 400) or a plain 404.
                gone = error.code == 100 or error.status == 404
                raise MediaFetchError(
                    mapped.reason, code=mapped.code, retryable=mapped.retryable, not_found=gone
                ) from error
            url = answer.get("url")
            if not isinstance(url, str) or not url:
                raise MediaFetchError("the provider returned no URL for this media")
            headers = {"Authorization": f"Bearer {secrets.access_token}"}
        elif attachment.url:
            url, headers = attachment.url, {}
        else:
            raise MediaError("this attachment has no media id and no URL", not_found=True)
        download = open_download(url, headers=headers, timeout=self._timeout(), filename=attachment.filename)
        if download.content_type == "application/octet-stream" and attachment.mime_type:
            download.content_type = attachment.mime_type
        return download

    def _timeout(self) -> float:
        if self.timeout is not None:
            return self.timeout
        from django.conf import settings

        return float(settings.PROVIDER_HTTP_TIMEOUT)

    def _send_with(self, secrets: ChannelSecrets, send: Callable[[GraphClient], str]) -> ProviderResult:
        """Run ``send`` (which returns the provider's message id) on a Graph client for the channel's token.

        A :class:`GraphError` becomes a :class:`SendError` with the reason an agent reads and its retryability.
        """
        try:
            with self._graph(secrets) as graph:
                external_id = send(graph)
        except GraphError as error:
            raise send_error(error) from error
        return ProviderResult(external_id=external_id)

    def _graph(self, secrets: ChannelSecrets) -> GraphClient:
        return GraphClient(
            secrets.access_token,
            base_url=self.base_url,
            api_version=self.api_version,
            timeout=self.timeout,
            retry=self.retry,
            sleep=self.sleep,
        )
