"""Messenger Send API: request bodies for ``POST /{version}/{page_id}/messages``.

Body: ``{"recipient": {"id": <PSID>}, "messaging_type": "RESPONSE" | "MESSAGE_TAG", "tag"?: "HUMAN_AGENT",
"message": {"text"} | {"attachment": {"type": "image", "payload": {"url", "is_reusable"} | {"attachment_id"}}}}``.
Success: ``{"recipient_id", "message_id"}``. Text is limited to 2,000 characters; a message carries text *or*
one attachment, never both.
Documentation: https://developers.facebook.com/docs/messenger-platform/reference/send-api/ and
https://developers.facebook.com/docs/messenger-platform/send-messages/message-tags
"""

from __future__ import annotations

from typing import Any

from integrations.channels.base import Attachment, OutboundMessage, SendError
from integrations.meta.errors import GraphError
from integrations.meta.graph import GraphClient

MAX_TEXT_LENGTH = 2000
MESSAGE_TAGS = frozenset({"HUMAN_AGENT", "ACCOUNT_UPDATE", "CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE"})
# Our attachment kinds -> Messenger's attachment types.
ATTACHMENT_TYPES = {"image": "image", "audio": "audio", "video": "video", "document": "file", "file": "file"}


def build_message_body(message: OutboundMessage) -> dict[str, Any]:
    """The documented request body for ``message``, or :class:`SendError` for what Messenger would refuse."""
    if not message.customer_id:
        raise SendError("the conversation has no Messenger PSID to send to")
    if message.template is not None:
        raise SendError("Messenger has no message templates: use a tag such as HUMAN_AGENT instead")
    if message.attachments and message.text:
        raise SendError("Messenger sends text and an attachment as two messages: send them separately")
    if len(message.attachments) > 1:
        raise SendError("Messenger sends one attachment per message: send them one by one")
    if message.attachments:
        content: dict[str, Any] = {"attachment": _attachment(message.attachments[0])}
    elif message.text:
        if len(message.text) > MAX_TEXT_LENGTH:
            raise SendError(f"text is {len(message.text)} characters; Messenger allows {MAX_TEXT_LENGTH}")
        content = {"text": message.text}
    else:
        raise SendError("nothing to send: no text or attachment")
    body: dict[str, Any] = {"recipient": {"id": message.customer_id}, "messaging_type": "RESPONSE"}
    if message.tag:
        tag = message.tag.upper()
        if tag not in MESSAGE_TAGS:
            raise SendError(f"unknown Messenger message tag {message.tag!r}")
        body.update(messaging_type="MESSAGE_TAG", tag=tag)
    body["message"] = content
    return body


def _attachment(attachment: Attachment) -> dict[str, Any]:
    kind = ATTACHMENT_TYPES.get(attachment.kind)
    if kind is None:
        raise SendError(f"Messenger cannot send a {attachment.kind or 'blank'} attachment")
    if attachment.media_id:
        return {"type": kind, "payload": {"attachment_id": attachment.media_id}}
    if attachment.url:
        return {"type": kind, "payload": {"url": attachment.url, "is_reusable": False}}
    raise SendError("the attachment has neither a URL nor an uploaded attachment id")


class MessengerClient:
    """Thin wrapper over :class:`GraphClient` with the Send API endpoint and answer shape."""

    def __init__(self, graph: GraphClient):
        self.graph = graph

    def send_message(self, page_id: str, body: dict[str, Any]) -> str:
        """POST the message and return its ``message_id``; raises :class:`GraphError`."""
        answer = self.graph.post(self.graph.path(page_id, "messages"), body)
        mid = answer.get("message_id")
        if not isinstance(mid, str) or not mid:
            raise GraphError("Messenger accepted the message but returned no message id", status=200)
        return mid
