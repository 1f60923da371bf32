"""Messenger Platform webhooks -> normalized events. The only code that reads Messenger's inbound JSON.

Envelope: ``{"object": "page", "entry": [{"id": <page id>, "time", "messaging": [{"sender": {"id"},
"recipient": {"id"}, "timestamp": <ms>, <one of message | postback | referral | delivery | read | reaction
...>}]}]}``. Documentation, one page per event:
https://developers.facebook.com/docs/messenger-platform/webhooks and
https://developers.facebook.com/documentation/business-messaging/messenger-platform/webhooks/webhook-events/
(messages, message-echoes, messaging_postbacks, messaging_referrals, message-deliveries, message-reads,
message-reactions).

Choices:
* ``standby`` arrays (handover protocol: another app owns the thread) are parsed like ``messaging``, with
  ``metadata["standby"] = True`` on messages: the customer still wrote to the page and the inbox must show it.
* Echoes (``message.is_echo``) are the page's own messages, ``direction="outbound"``, ``customer_id`` the
  recipient; the inbox stores them once by ``mid``.
* Postbacks without ``mid`` and reactions (which have none) get a deterministic id from sender, timestamp and
  content, so a redelivered webhook maps to the same id.
* A delivery receipt without ``mids`` (watermark only) cannot name messages without the database: Ignored.
* Referrals: ``source == "ADS"`` is ``messenger_ad``; other sources keep their name (``messenger_shortlink``).
"""

from __future__ import annotations

from typing import Any

from integrations.channels.base import (
    Attachment,
    ConversationReferral,
    Ignored,
    InboundEvent,
    InboundMessage,
    MessageKind,
    ParseError,
    ReadWatermark,
    Referral,
    StatusUpdate,
)
from integrations.meta.payload import (
    JSONObject,
    as_dict,
    describe,
    load_envelope,
    opt_dict,
    opt_list,
    opt_scalar,
    opt_str,
    pick_scalars,
    req_dict,
    req_list,
    req_str,
    req_time,
)

OBJECT = "page"
ATTACHMENT_KINDS: dict[str, str] = {
    "image": "image", "audio": "audio", "video": "video", "file": "document", "location": "location",
    "sticker": "sticker", "fallback": "share_post", "post": "share_post", "ig_post": "share_post",
    "reel": "share_post", "ig_reel": "share_post",
}
# Events we know and deliberately skip (handover protocol, opt-ins, account linking...): a clear reason.
_OTHER_EVENTS = (
    "optin", "account_linking", "pass_thread_control", "take_thread_control", "request_thread_control",
    "app_roles", "policy_enforcement", "game_play", "message_edit", "checkout_update", "payment",
)


def parse_webhook(raw: bytes) -> list[InboundEvent]:
    """Parse one webhook body. Pure; raises only :class:`ParseError`."""
    payload = load_envelope(raw, OBJECT)
    events: list[InboundEvent] = []
    for i, entry in enumerate(req_list(payload, "entry", "body")):
        where = f"entry[{i}]"
        entry = as_dict(entry, where)
        page_id = req_str(entry, "id", where)
        batches = [(key, entry[key]) for key in ("messaging", "standby") if key in entry]
        if not batches:
            events.append(Ignored(reason="entry without messaging events (changes feed?)", account_id=page_id))
        for key, items in batches:
            if not isinstance(items, list):
                raise ParseError(f"{where}.{key} is {describe(items)}, expected an array")
            for k, item in enumerate(items):
                path = f"{where}.{key}[{k}]"
                events.extend(_parse_event(as_dict(item, path), path, page_id, standby=key == "standby"))
    return events


def _parse_event(event: JSONObject, where: str, page_id: str, *, standby: bool) -> list[InboundEvent]:
    sender = req_str(req_dict(event, "sender", where), "id", f"{where}.sender")
    if "message" in event:
        return [_message(as_dict(event["message"], f"{where}.message"), event, where, page_id, sender, standby)]
    if "postback" in event:
        return [_postback(as_dict(event["postback"], f"{where}.postback"), event, where, page_id, sender, standby)]
    if "reaction" in event:
        return [_reaction(as_dict(event["reaction"], f"{where}.reaction"), event, where, page_id, sender, standby)]
    if "referral" in event:
        referral = _referral(as_dict(event["referral"], f"{where}.referral"))
        at = req_time(event, "timestamp", where, millis=True)
        return [ConversationReferral(account_id=page_id, customer_id=sender, at=at, referral=referral)]
    if "delivery" in event:
        delivery = as_dict(event["delivery"], f"{where}.delivery")
        at = req_time(delivery, "watermark", f"{where}.delivery", millis=True)
        mids = [m for m in opt_list(delivery, "mids") if isinstance(m, str) and m]
        if not mids:
            return [Ignored(reason="delivery watermark without mids", account_id=page_id)]
        return [StatusUpdate(account_id=page_id, external_id=m, status="delivered", at=at, customer_id=sender)
                for m in mids]
    if "read" in event:
        read = as_dict(event["read"], f"{where}.read")
        up_to = req_time(read, "watermark", f"{where}.read", millis=True)
        return [ReadWatermark(account_id=page_id, customer_id=sender, up_to=up_to)]
    known = next((key for key in _OTHER_EVENTS if key in event), None)
    reason = f"messaging event {known!r} is not handled" if known else "unknown messaging event"
    return [Ignored(reason=reason, account_id=page_id)]


def _message(
    msg: JSONObject, event: JSONObject, where: str, page_id: str, sender: str, standby: bool
) -> InboundMessage:
    echo = msg.get("is_echo") is True
    # An echo is sent by the page: the customer is whoever it was sent to.
    customer = req_str(req_dict(event, "recipient", where), "id", f"{where}.recipient") if echo else sender
    text = opt_str(msg, "text")
    attachments, kind, metadata = _attachments(opt_list(msg, "attachments"))
    quick_reply = opt_dict(msg, "quick_reply")
    if "payload" in quick_reply:
        kind = "quick_reply"
        metadata.update(reply_id=opt_str(quick_reply, "payload"), reply_title=text)
    if echo:
        metadata.update(pick_scalars(msg, ("app_id", "metadata")))
    if standby:
        metadata["standby"] = True
    referral = msg.get("referral")
    return InboundMessage(
        account_id=page_id,
        external_id=req_str(msg, "mid", f"{where}.message"),
        customer_id=customer,
        sent_at=req_time(event, "timestamp", where, millis=True),
        kind=kind,
        direction="outbound" if echo else "inbound",
        text=text,
        attachments=attachments,
        referral=_referral(referral) if isinstance(referral, dict) else None,
        reply_to_external_id=opt_str(opt_dict(msg, "reply_to"), "mid"),
        metadata=metadata,
    )


def _attachments(items: list[Any]) -> tuple[tuple[Attachment, ...], MessageKind, dict[str, Any]]:
    """Normalized attachments, the message kind they imply, and metadata for types we cannot show."""
    result: list[Attachment] = []
    unknown: list[str] = []
    stickers = {opt_str(opt_dict(a, "payload"), "sticker_id") for a in items
                if isinstance(a, dict) and a.get("type") == "sticker"}
    for item in items:
        if not isinstance(item, dict):
            continue
        raw_type = opt_str(item, "type")
        payload = opt_dict(item, "payload")
        sticker_id = opt_str(payload, "sticker_id")
        if raw_type == "image" and sticker_id:
            if sticker_id in stickers:
                continue  # the transition sends a sticker twice, as "sticker" and as "image": keep one
            raw_type = "sticker"
        kind = ATTACHMENT_KINDS.get(raw_type)
        if kind is None:
            unknown.append(raw_type or "blank")
            continue
        data: dict[str, Any] = {"type": raw_type}
        if sticker_id:
            data["sticker_id"] = sticker_id
        coordinates = opt_dict(payload, "coordinates")
        for key, name in (("lat", "latitude"), ("long", "longitude")):
            if (value := opt_scalar(coordinates, key)) is not None:
                data[name] = value
        if title := opt_str(item, "title") or opt_str(payload, "title"):
            data["title"] = title
        result.append(Attachment(kind=kind, url=opt_str(payload, "url"), data=data))
    metadata: dict[str, Any] = {"unsupported_attachments": unknown} if unknown else {}
    if result:
        return tuple(result), result[0].kind, metadata  # type: ignore[return-value]
    return (), ("unsupported" if unknown else "text"), metadata


def _postback(
    postback: JSONObject, event: JSONObject, where: str, page_id: str, sender: str, standby: bool
) -> InboundMessage:
    at = req_time(event, "timestamp", where, millis=True)
    title, payload = opt_str(postback, "title"), opt_str(postback, "payload")
    mid = opt_str(postback, "mid") or f"postback:{sender}:{int(at.timestamp() * 1000)}:{payload}"
    referral = postback.get("referral")
    metadata: dict[str, Any] = {"payload": payload, "title": title}
    if standby:
        metadata["standby"] = True
    return InboundMessage(
        account_id=page_id, external_id=mid, customer_id=sender, sent_at=at, kind="postback", text=title,
        referral=_referral(referral) if isinstance(referral, dict) else None, metadata=metadata,
    )


def _reaction(
    reaction: JSONObject, event: JSONObject, where: str, page_id: str, sender: str, standby: bool
) -> InboundMessage:
    at = req_time(event, "timestamp", where, millis=True)
    target = opt_str(reaction, "mid")
    action = opt_str(reaction, "action") or "react"
    metadata: dict[str, Any] = {"reaction": opt_str(reaction, "reaction"), "emoji": opt_str(reaction, "emoji"),
                                "action": action}
    if standby:
        metadata["standby"] = True
    return InboundMessage(
        account_id=page_id, external_id=f"reaction:{target}:{sender}:{int(at.timestamp() * 1000)}:{action}",
        customer_id=sender, sent_at=at, kind="reaction", reply_to_external_id=target, metadata=metadata,
    )


def _referral(value: JSONObject) -> Referral:
    source = opt_str(value, "source")
    name = "messenger_ad" if source == "ADS" else f"messenger_{source.lower()}" if source else "messenger"
    data = pick_scalars(value, ("source", "type", "referer_uri", "is_guest_user"))
    if context := opt_dict(value, "ads_context_data"):
        data["ads_context_data"] = pick_scalars(context, tuple(context))
    return Referral(source=name, ad_id=opt_str(value, "ad_id"), ref=opt_str(value, "ref"), data=data)

