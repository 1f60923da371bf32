"""WhatsApp Cloud API sending: request bodies for ``POST /{version}/{phone_number_id}/messages`` and media look-up.

Text: ``{"messaging_product": "whatsapp", "recipient_type": "individual", "to", "type": "text", "text":
{"body", "preview_url"}}``; media by ``link`` or uploaded ``id``; templates with ``name``, ``language.code`` and
``components``; ``context.message_id`` quotes the message replied to. Success: ``{"messaging_product",
"contacts": [{"input", "wa_id"}], "messages": [{"id": "wamid..."}]}``.
Documentation: https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages and
https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media (``GET /{media-id}``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from integrations.channels.base import Attachment, MessageTemplate, OutboundMessage, SendError
from integrations.meta.errors import GraphError
from integrations.meta.graph import GraphClient
from integrations.whatsapp.templates import LIST_FIELDS, MAX_PAGES, PAGE_SIZE, parse_page, template_object

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MEDIA_KINDS = frozenset({"image", "audio", "video", "document", "sticker"})
_CAPTIONED = frozenset({"image", "video", "document"})


def build_message_body(message: OutboundMessage) -> dict[str, Any]:
    """The documented request body for ``message``, or :class:`SendError` for what WhatsApp would refuse."""
    if not message.customer_id:
        raise SendError("the conversation has no WhatsApp number to send to")
    body: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": message.customer_id}
    if message.template is not None:
        body.update(type="template", template=_template(message.template))
    elif message.attachments:
        if len(message.attachments) > 1:
            raise SendError("WhatsApp sends one attachment per message: send them one by one")
        body.update(_media(message.attachments[0], message.text))
    elif message.text:
        if len(message.text) > MAX_TEXT_LENGTH:
            raise SendError(f"text is {len(message.text)} characters; WhatsApp allows {MAX_TEXT_LENGTH}")
        body.update(type="text", text={"body": message.text, "preview_url": False})
    else:
        raise SendError("nothing to send: no text, attachment or template")
    if message.reply_to_external_id:
        body["context"] = {"message_id": message.reply_to_external_id}
    return body


def _media(attachment: Attachment, text: str) -> dict[str, Any]:
    kind = attachment.kind
    if kind not in MEDIA_KINDS:
        raise SendError(f"WhatsApp cannot send a {kind or 'blank'} attachment")
    if attachment.media_id:
        obj: dict[str, Any] = {"id": attachment.media_id}
    elif attachment.url:
        obj = {"link": attachment.url}
    else:
        raise SendError("the attachment has neither a URL nor an uploaded media id")
    caption = attachment.caption or text
    if caption:
        if kind not in _CAPTIONED:
            raise SendError(f"WhatsApp cannot send text with a {kind}: send the text separately")
        if len(caption) > MAX_CAPTION_LENGTH:
            raise SendError(f"caption is {len(caption)} characters; WhatsApp allows {MAX_CAPTION_LENGTH}")
        obj["caption"] = caption
    if kind == "document" and attachment.filename:
        obj["filename"] = attachment.filename
    return {"type": kind, kind: obj}


def _template(template: Mapping[str, Any]) -> dict[str, Any]:
    """``{"name", "language": "en_US" | {"code"}, "components"? | "body_parameters"?}`` -> the template object."""
    return template_object(template)


class WhatsAppClient:
    """Thin wrapper over :class:`GraphClient` with WhatsApp's endpoints and answer shapes."""

    def __init__(self, graph: GraphClient):
        self.graph = graph

    def send_message(self, phone_number_id: str, body: dict[str, Any]) -> str:
        """POST the message and return its ``wamid``; raises :class:`GraphError`."""
        answer = self.graph.post(self.graph.path(phone_number_id, "messages"), body)
        messages = answer.get("messages")
        first = messages[0] if isinstance(messages, list) and messages else None
        wamid = first.get("id") if isinstance(first, dict) else None
        if not isinstance(wamid, str) or not wamid:
            raise GraphError("WhatsApp accepted the message but returned no message id", status=200)
        return wamid

    def media_url(self, media_id: str) -> tuple[str, str]:
        """``(url, mime_type)`` of an uploaded or received media object; the URL expires after minutes."""
        answer = self.graph.get(self.graph.path(media_id))
        url, mime_type = answer.get("url"), answer.get("mime_type")
        if not isinstance(url, str) or not url:
            raise GraphError("WhatsApp returned no URL for this media", status=200)
        return url, mime_type if isinstance(mime_type, str) else ""

    def message_templates(self, waba_id: str) -> list[MessageTemplate]:
        """Every template of the WhatsApp Business Account, following ``paging.cursors.after`` to the end."""
        path = self.graph.path(waba_id, "message_templates")
        found: list[MessageTemplate] = []
        after = ""
        for _ in range(MAX_PAGES):
            params = {"fields": LIST_FIELDS, "limit": str(PAGE_SIZE)}
            if after:
                params["after"] = after
            templates, after = parse_page(self.graph.get(path, params))
            found.extend(templates)
            if not after:
                break
        return found
