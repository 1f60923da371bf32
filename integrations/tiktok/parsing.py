"""The only code that reads TikTok Business Messaging webhook JSON.

Documentation: https://business-api.tiktok.com/portal/docs?id=1832190670631937 (direct message webhook events)
and https://business-api.tiktok.com/portal/docs?id=1759978319341570 (webhook event types).

A delivery is one envelope ``{client_key, event, create_time, user_openid, content}`` where ``user_openid`` is
the business account and ``content`` is a *JSON string* parsed a second time (an object is accepted too).
Events routed here: ``im_receive_msg`` (customer to business), ``im_send_msg`` (echo of what the business
sent, from our API or the TikTok app), ``im_mark_read_msg`` (the customer read the thread) and
``authorization.removed`` (the account withdrew our access; ``content`` is ``{"reason": <int>}``, documented at
https://developers.tiktok.com/doc/webhooks-events/). Anything else becomes :class:`Ignored`.

Assumptions, because TikTok does not document them publicly:

* ``create_time`` and ``timestamp`` are read as milliseconds when larger than 10^11, else as seconds (TikTok's
  own ping event sends ``create_time`` in milliseconds although it is documented in seconds).
* Ad attribution: no referral field of the direct-message webhook is public. An optional ``referral`` or
  ``ad_info`` object in ``content`` is read leniently into ``Referral(source="tiktok_ad")`` (``ad_id``,
  ``campaign_id``, ``click_id``/``ttclid``, ``ref``), its other scalar fields kept in ``Referral.data``.

:func:`parse` is pure and raises only :class:`ParseError`, whatever the bytes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from integrations.channels.base import (
    Attachment,
    AuthorizationRevoked,
    Ignored,
    InboundEvent,
    InboundMessage,
    MessageKind,
    ParseError,
    ReadWatermark,
    Referral,
)

_MS_THRESHOLD = 10**11  # seconds would only pass this in the year 5138
_Json = Mapping[str, Any]
_REFERRAL_KEYS = ("referral", "ad_info")
_KNOWN_TYPES: frozenset[str] = frozenset({"text", "image", "video", "sticker", "share_post"})


def parse(raw: bytes) -> list[InboundEvent]:
    """Turn one webhook body into normalized events, or raise :class:`ParseError` with a readable reason."""
    envelope = _load_json(raw, "the body")
    if not isinstance(envelope, dict):
        raise ParseError(f"the body is a JSON {_type_name(envelope)}, not an object")
    event = envelope.get("event")
    if not isinstance(event, str) or not event:
        raise ParseError("the body has no 'event' name")
    account_id = _opt_id(envelope, "user_openid")
    handler = _HANDLERS.get(event)
    if handler is None:
        return [Ignored(reason=f"unknown event {event[:80]!r}", account_id=account_id)]
    if not account_id:
        raise ParseError(f"{event}: missing 'user_openid' (the business account)")
    content = _lenient_content(envelope) if event == "authorization.removed" else _content(envelope)
    return handler(event, account_id, envelope, content)


def _message(event: str, account_id: str, envelope: _Json, content: _Json) -> list[InboundEvent]:
    message_id = _opt_id(content, "message_id")
    if not message_id:
        raise ParseError(f"{event}: content has no 'message_id'")
    from_id = _user_id(content, "from_user")
    to_id = _user_id(content, "to_user")
    # TikTok's rule: a message is incoming when it is addressed to the business.
    inbound = to_id == account_id if to_id else event == "im_receive_msg"
    customer_id = from_id if inbound else to_id
    if not customer_id:
        raise ParseError(f"{event}: content names no customer ('from_user.id' / 'to_user.id')")
    raw_type = content.get("type")
    tiktok_type = raw_type.strip().lower() if isinstance(raw_type, str) else ""
    kind, text, attachments = _body(tiktok_type, content)
    metadata: dict[str, Any] = {"event": event, "tiktok_type": tiktok_type}
    tag = content.get("message_tag")
    if isinstance(tag, dict) and isinstance(tag.get("source"), str):
        metadata["source"] = tag["source"]  # APP / WEB / API: where an echo was typed
    name = content.get("from" if inbound else "to")
    return [
        InboundMessage(
            account_id=account_id,
            external_id=message_id,
            customer_id=customer_id,
            sent_at=_time(content, envelope, "timestamp"),
            kind=kind,
            direction="inbound" if inbound else "outbound",
            text=text,
            customer_name=name if isinstance(name, str) else "",
            thread_id=_opt_id(content, "conversation_id"),
            attachments=attachments,
            referral=_referral(content),
            reply_to_external_id=_opt_id(_obj(content, "referenced_message_info"), "referenced_message_id"),
            metadata=metadata,
        )
    ]


def _body(tiktok_type: str, content: Mapping[str, Any]) -> tuple[MessageKind, str, tuple[Attachment, ...]]:
    if tiktok_type == "text":
        body = _obj(content, "text").get("body")
        return "text", body if isinstance(body, str) else "", ()
    if tiktok_type in ("image", "video"):
        media_id = _opt_id(_obj(content, tiktok_type), "media_id")
        kind: MessageKind = "image" if tiktok_type == "image" else "video"
        return kind, "", (Attachment(kind=tiktok_type, media_id=media_id),)
    if tiktok_type == "sticker":
        url = _obj(content, "sticker").get("url")
        return "sticker", "", (Attachment(kind="sticker", url=url if isinstance(url, str) else ""),)
    if tiktok_type == "share_post":
        url = _obj(content, "share_post").get("embed_url")
        embed_url = url if isinstance(url, str) else ""
        attachment = Attachment(kind="share_post", url=embed_url, data={"embed_url": embed_url})
        return "share_post", "", (attachment,)
    return "unsupported", "", ()


def _read(event: str, account_id: str, envelope: _Json, content: _Json) -> list[InboundEvent]:
    reader = _user_id(content, "from_user")
    if not reader:
        raise ParseError(f"{event}: content has no 'from_user.id' (who read)")
    if reader == account_id:
        # The business reading its own inbox in the TikTok app says nothing about the customer.
        return [Ignored(reason="read by the business itself", account_id=account_id)]
    read = _obj(content, "read")
    source = read if "last_read_timestamp" in read else content
    key = "last_read_timestamp" if source is read else "timestamp"
    return [
        ReadWatermark(
            account_id=account_id,
            customer_id=reader,
            up_to=_time(source, envelope, key),
            thread_id=_opt_id(content, "conversation_id"),
        )
    ]


# TikTok's documented reasons for ``authorization.removed``.
REVOKE_REASONS = {
    0: "unknown reason",
    1: "the account disconnected Switchboard in the TikTok app",
    2: "the TikTok account was deleted",
    3: "the account holder's age changed",
    4: "the TikTok account was banned",
    5: "the developer revoked the authorization",
}


def _authorization_removed(event: str, account_id: str, envelope: _Json, content: _Json) -> list[InboundEvent]:
    code = content.get("reason")
    known = isinstance(code, int) and not isinstance(code, bool) and code in REVOKE_REASONS
    reason = REVOKE_REASONS[code] if known else f"reason {str(code)[:20]!r}"
    return [AuthorizationRevoked(account_id=account_id, at=_time(envelope, envelope, "create_time"), reason=reason)]


def _lenient_content(envelope: _Json) -> _Json:
    """``authorization.removed`` must never be lost over its optional detail: a broken ``content`` is empty."""
    try:
        return _content(envelope)
    except ParseError:
        return {}


_HANDLERS: dict[str, Callable[[str, str, _Json, _Json], list[InboundEvent]]] = {
    "im_receive_msg": _message,
    "im_send_msg": _message,
    "im_mark_read_msg": _read,
    "authorization.removed": _authorization_removed,
}


# -- helpers: each turns a wrong shape into ParseError or a neutral default, never another exception --------


def _load_json(raw: bytes | str, what: str) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise ParseError(f"{what} is not valid JSON ({exc.__class__.__name__})") from None
    except TypeError:
        raise ParseError(f"{what} is not text") from None


def _content(envelope: Mapping[str, Any]) -> Mapping[str, Any]:
    content = envelope.get("content")
    if isinstance(content, str):
        content = _load_json(content, "'content'")
    if not isinstance(content, dict):
        raise ParseError(f"'content' is a {_type_name(content)}, not a JSON object (or a string holding one)")
    return content


def _obj(parent: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = parent.get(key)
    return value if isinstance(value, dict) else {}


def _opt_id(parent: Mapping[str, Any], key: str) -> str:
    """An identifier as text: TikTok sends strings, but a number is not worth refusing a message over."""
    value = parent.get(key)
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return ""


def _user_id(content: Mapping[str, Any], key: str) -> str:
    return _opt_id(_obj(content, key), "id")


def _time(source: Mapping[str, Any], envelope: Mapping[str, Any], key: str) -> datetime:
    for parent, name in ((source, key), (envelope, "create_time")):
        value = parent.get(name)
        if isinstance(value, str):
            text = value.strip()
            value = int(text) if text.isascii() and text.isdigit() and len(text) < 20 else None
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if (isinstance(value, float) and not math.isfinite(value)) or value <= 0:
            continue
        try:
            seconds = value / 1000 if value > _MS_THRESHOLD else value
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise ParseError(f"'{name}' is out of range for a date") from None
    raise ParseError(f"no usable time: neither content '{key}' nor 'create_time' is a unix timestamp")


def _referral(content: Mapping[str, Any]) -> Referral | None:
    for key in _REFERRAL_KEYS:
        info = _obj(content, key)
        if not info:
            continue
        ids = {name: _opt_id(info, name) for name in ("ad_id", "campaign_id", "click_id", "ttclid", "ref")}
        # Keep only scalar, JSON-friendly extras; a referral never carries message text.
        extras = {k: v for k, v in info.items() if k not in ids and _is_plain_scalar(v)}
        return Referral(
            source="tiktok_ad",
            ad_id=ids["ad_id"],
            campaign_id=ids["campaign_id"],
            click_id=ids["click_id"] or ids["ttclid"],
            ref=ids["ref"],
            data=extras,
        )
    return None


def _is_plain_scalar(value: Any) -> bool:
    return isinstance(value, str | int | bool) or (isinstance(value, float) and math.isfinite(value))


def _type_name(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number"
    )
