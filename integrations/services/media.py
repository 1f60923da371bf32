"""Received media, fetched lazily: an agent opens an attachment and the provider streams it through us.

Nothing is stored: not the file, not the provider's short-lived URL (it works with the channel's token).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied

from inbox import permissions
from inbox.models import Message
from integrations.channels.base import Attachment, ChannelSecrets, MediaDownload, MediaError, MediaRequest
from integrations.channels.registry import UnknownProvider, adapter_for
from switchboard.crypto import SecretUnreadable

logger = logging.getLogger(__name__)


class MediaNotFound(Exception):
    """No such message or attachment for this user, or the provider no longer has the file."""


def _attachment(data: Any) -> Attachment:
    data = data if isinstance(data, dict) else {}
    return Attachment(
        kind=str(data.get("kind") or ""),
        media_id=str(data.get("media_id") or ""),
        url=str(data.get("url") or ""),
        mime_type=str(data.get("mime_type") or ""),
        filename=str(data.get("filename") or ""),
    )


def message_media_open(*, user: Any, message_id: int, index: int = 0) -> MediaDownload:
    """Open the download of a message's ``index``-th attachment for ``user``.

    Raises :class:`MediaNotFound` when the message is not visible to the user (same answer as a missing one),
    has no such attachment, or the provider has no such media; :class:`MediaError` for other provider failures.
    """
    message = Message.objects.select_related("conversation", "channel").filter(pk=message_id).first()
    if message is None:
        raise MediaNotFound("no such message")
    try:
        permissions.check_can_view(user, message.conversation)
    except PermissionDenied as exc:
        raise MediaNotFound("no such message") from exc
    attachments = message.attachments if isinstance(message.attachments, list) else []
    if not 0 <= index < len(attachments):
        raise MediaNotFound("no such attachment")
    attachment = _attachment(attachments[index])
    channel = message.channel
    try:
        adapter = adapter_for(channel.kind)
    except UnknownProvider as exc:
        raise MediaNotFound("this channel's provider serves no media") from exc
    fetch = getattr(adapter, "fetch_media", None)
    if fetch is None:
        raise MediaNotFound("this channel's provider serves no media")
    credential = getattr(channel, "credential", None)
    try:
        secrets = credential.secrets() if credential is not None else ChannelSecrets(account_id=channel.account_id)
    except SecretUnreadable as exc:
        raise MediaError(str(exc)) from exc
    request = MediaRequest(
        attachment=attachment, external_message_id=message.external_id or "", thread_id=message.conversation.thread_id
    )
    try:
        return fetch(secrets, request)
    except MediaError as exc:
        logger.info("media fetch failed", extra={"message_id": message_id, "reason": exc.reason})
        if exc.not_found:
            raise MediaNotFound(exc.reason) from exc
        raise
