"""WhatsApp Cloud API webhooks -> normalized events. The only code that reads WhatsApp's inbound JSON.

Envelope: ``{"object": "whatsapp_business_account", "entry": [{"id": <WABA id>, "changes": [{"field":
"messages", "value": {"metadata": {"phone_number_id"}, "contacts": [...], "messages": [...], "statuses":
[...]}}]}]}``. One POST may carry several entries, changes, messages and statuses: all are returned, in order.
Documentation: https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples and
https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages

Choices: a caption is both the message ``text`` (so search, keyword flags and tracking-ID extraction see it)
and the attachment's ``caption``; changes whose ``field`` is not ``messages`` become :class:`Ignored`;
required ids and timestamps that are missing or of the wrong type raise :class:`ParseError` (the stored
delivery is then marked failed and replayable) rather than being guessed.
"""

from __future__ import annotations

from typing import Any

from integrations.channels.base import (
    Attachment,
    Ignored,
    InboundEvent,
    InboundMessage,
    MessageKind,
    Referral,
    StatusUpdate,
)
from integrations.meta.errors import reason_for
from integrations.meta.payload import (
    JSONObject,
    as_dict,
    describe,
    load_envelope,
    opt_dict,
    opt_list,
    opt_str,
    pick_scalars,
    req_dict,
    req_list,
    req_str,
    req_time,
)

OBJECT = "whatsapp_business_account"
MEDIA_TYPES = frozenset({"image", "audio", "video", "document", "sticker"})
STATUSES = frozenset({"sent", "delivered", "read", "failed"})
# Documented referral fields kept as attribution data besides the ad id and click id.
REFERRAL_FIELDS = (
    "source_url", "source_type", "source_id", "headline", "body", "media_type", "image_url", "video_url",
    "thumbnail_url", "ctwa_clid",
)


def parse_webhook(raw: bytes) -> list[InboundEvent]:
    """Parse one webhook body. Pure; raises only :class:`ParseError`."""
    payload = load_envelope(raw, OBJECT)
    events: list[InboundEvent] = []
    for i, entry in enumerate(req_list(payload, "entry", "body")):
        entry = as_dict(entry, f"entry[{i}]")
        for j, change in enumerate(req_list(entry, "changes", f"entry[{i}]")):
            events.extend(_parse_change(as_dict(change, f"entry[{i}].changes[{j}]"), f"entry[{i}].changes[{j}]"))
    return events


def _parse_change(change: JSONObject, where: str) -> list[InboundEvent]:
    field = change.get("field")
    if field != "messages":
        return [Ignored(reason=f"change field {describe(field)} is not handled")]
    value = req_dict(change, "value", where)
    account_id = req_str(req_dict(value, "metadata", f"{where}.value"), "phone_number_id", f"{where}.value.metadata")
    names = {
        opt_str(c, "wa_id"): opt_str(opt_dict(c, "profile"), "name")
        for c in opt_list(value, "contacts")
        if isinstance(c, dict)
    }
    events: list[InboundEvent] = []
    for k, message in enumerate(opt_list(value, "messages")):
        path = f"{where}.value.messages[{k}]"
        events.append(_parse_message(as_dict(message, path), path, account_id, names))
    for k, status in enumerate(opt_list(value, "statuses")):
        path = f"{where}.value.statuses[{k}]"
        events.append(_parse_status(as_dict(status, path), path, account_id))
    if not events:
        return [Ignored(reason="messages change without messages or statuses", account_id=account_id)]
    return events


def _parse_message(msg: JSONObject, where: str, account_id: str, names: dict[str, str]) -> InboundMessage:
    customer_id = req_str(msg, "from", where)
    msg_type = opt_str(msg, "type") or "unknown"
    kind, text, attachments, metadata, reply_to = _content(msg, msg_type)
    context = opt_dict(msg, "context")
    if context.get("forwarded") is True or context.get("frequently_forwarded") is True:
        metadata["forwarded"] = True
    return InboundMessage(
        account_id=account_id,
        external_id=req_str(msg, "id", where),
        customer_id=customer_id,
        sent_at=req_time(msg, "timestamp", where, millis=False),
        kind=kind,
        text=text,
        customer_name=names.get(customer_id, ""),
        attachments=attachments,
        referral=_referral(msg.get("referral")),
        reply_to_external_id=reply_to or opt_str(context, "id"),
        metadata=metadata,
    )


def _content(
    msg: JSONObject, msg_type: str
) -> tuple[MessageKind, str, tuple[Attachment, ...], dict[str, Any], str]:
    """(kind, text, attachments, metadata, reply_to) for one message, by its ``type``."""
    body = opt_dict(msg, msg_type) if msg_type else {}
    if msg_type == "text":
        return "text", opt_str(body, "body"), (), {}, ""
    if msg_type in MEDIA_TYPES:
        caption = opt_str(body, "caption")
        extra = pick_scalars(body, ("sha256", "voice", "animated"))
        attachment = Attachment(
            kind=msg_type, media_id=opt_str(body, "id"), mime_type=opt_str(body, "mime_type"), caption=caption,
            filename=opt_str(body, "filename"), data=extra,
        )
        return msg_type, caption, (attachment,), {}, ""  # type: ignore[return-value]
    if msg_type == "location":
        data = pick_scalars(body, ("latitude", "longitude", "name", "address", "url"))
        return "location", "", (Attachment(kind="location", data=data),), {}, ""
    if msg_type == "contacts":
        shared = [c for c in opt_list(msg, "contacts") if isinstance(c, dict)]
        return "contacts", "", (Attachment(kind="contacts", data={"contacts": shared}),), {}, ""
    if msg_type == "reaction":
        emoji = opt_str(body, "emoji")
        # An empty or absent emoji is WhatsApp's way of saying the reaction was removed.
        metadata = {"emoji": emoji, "action": "react" if emoji else "unreact"}
        return "reaction", "", (), metadata, opt_str(body, "message_id")
    if msg_type == "interactive":
        reply_type = opt_str(body, "type")
        if reply_type in ("button_reply", "list_reply"):
            reply = opt_dict(body, reply_type)
            title = opt_str(reply, "title")
            metadata = {"reply_id": opt_str(reply, "id"), "reply_title": title, "reply_type": reply_type}
            if description := opt_str(reply, "description"):
                metadata["reply_description"] = description
            return "quick_reply", title, (), metadata, ""
        return "unsupported", "", (), {"type": "interactive", "interactive_type": reply_type}, ""
    if msg_type == "button":
        # A quick-reply button of a template message: text is the label, payload what we set on the button.
        label = opt_str(body, "text")
        return "quick_reply", label, (), {"reply_id": opt_str(body, "payload"), "reply_title": label,
                                           "reply_type": "template_button"}, ""
    metadata = {"type": msg_type}
    errors = [e for e in opt_list(msg, "errors") if isinstance(e, dict)]
    if errors:
        metadata["error"] = opt_str(errors[0], "title") or opt_str(errors[0], "message")
    return "unsupported", "", (), metadata, ""


def _referral(value: Any) -> Referral | None:
    """Click-to-WhatsApp ad attribution, kept on the conversation by the inbox."""
    if not isinstance(value, dict):
        return None
    data = pick_scalars(value, REFERRAL_FIELDS)
    return Referral(source="ctwa", ad_id=opt_str(value, "source_id"), click_id=opt_str(value, "ctwa_clid"), data=data)


def _parse_status(status: JSONObject, where: str, account_id: str) -> InboundEvent:
    name = opt_str(status, "status")
    if name not in STATUSES:
        found = describe(status.get("status"))
        return Ignored(reason=f"status {found} is not handled", account_id=account_id)
    return StatusUpdate(
        account_id=account_id,
        external_id=req_str(status, "id", where),
        status=name,
        at=req_time(status, "timestamp", where, millis=False),
        customer_id=opt_str(status, "recipient_id"),
        error=_status_error(opt_list(status, "errors")) if name == "failed" else "",
    )


def _status_error(errors: list[Any]) -> str:
    """The first error as an agent reads it: our shared reason when the code is a known one."""
    first = next((e for e in errors if isinstance(e, dict)), None)
    if first is None:
        return "failed without an error from WhatsApp"
    code = first.get("code")
    known = reason_for(code if isinstance(code, int) and not isinstance(code, bool) else None)
    if known:
        return known
    title = opt_str(first, "title")
    detail = opt_str(opt_dict(first, "error_data"), "details") or opt_str(first, "message")
    parts = [title] + ([detail] if detail and detail != title else [])
    text = ": ".join(p for p in parts if p) or "failed"
    return f"{code} {text}" if isinstance(code, int) and not isinstance(code, bool) else text

