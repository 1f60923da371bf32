"""The TikTok Events API request body, built from outbox rows only.

Documentation: TikTok Events API 2.0, ``POST /open_api/v1.3/event/track/`` (see ``shared/PROTOCOLS.md``).

:func:`build_track_body` takes :class:`signals.models.SignalEvent` rows (or anything with the same attributes)
and plain configuration values. It never receives a message body: there is no parameter through which text
could arrive, and the rows it reads hold only identifiers, flag names, numbers and enumerations.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

#: Keys of ``properties`` that may be sent, and the type each must have (anything else is dropped).
ALLOWED_PROPERTIES: Mapping[str, type | tuple[type, ...]] = {
    "value": (int, float),
    "currency": str,
    "content_type": str,
    "flags": list,
}
#: Enumerations allowed for the string properties (ISO 4217 currencies are checked by shape).
CONTENT_TYPES = frozenset({"product", "product_group", "conversation", "reservation"})


class EventRow(Protocol):
    event_name: str
    event_id: str
    event_time: datetime | int  # an aware datetime, or already whole unix seconds
    ttclid: str
    flags: Sequence[str]
    properties: Mapping[str, Any]
    user_ids: Mapping[str, str]


def sha256_hex(value: str) -> str:
    """SHA-256 hex of a normalized identifier (lowercased, trimmed), as the Events API expects it."""
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()


def safe_properties(properties: Mapping[str, Any], flags: Sequence[str] = ()) -> dict[str, Any]:
    """Only numbers and enumerations: ``value``, ``currency`` (three letters), ``content_type`` (an enum) and
    the flag names. Anything else is dropped, so a caller's mistake cannot put text on the wire."""
    out: dict[str, Any] = {}
    value = properties.get("value")
    if isinstance(value, int | float) and not isinstance(value, bool):
        out["value"] = round(float(value), 2)
    currency = properties.get("currency")
    if isinstance(currency, str) and len(currency) == 3 and currency.isascii() and currency.isalpha():
        out["currency"] = currency.upper()
    content_type = properties.get("content_type")
    if content_type in CONTENT_TYPES:
        out["content_type"] = content_type
    if flags:
        out["flags"] = sorted(set(flags))
    return out


def build_track_body(
    events: Sequence[EventRow],
    *,
    event_source: str,
    event_source_id: str,
    partner_name: str = "",
    test_event_code: str = "",
) -> dict[str, Any]:
    """The request body for one batch of events of one event set."""
    data = []
    for row in events:
        user: dict[str, str] = {}
        external_id = row.user_ids.get("external_id", "")
        if external_id:
            user["external_id"] = external_id
        if row.ttclid:
            user["ttclid"] = row.ttclid
        at = row.event_time
        item: dict[str, Any] = {
            "event": row.event_name,
            "event_time": at if isinstance(at, int) else int(at.timestamp()),
            "event_id": row.event_id,
            "user": user,
        }
        properties = safe_properties(row.properties, row.flags)
        if properties:
            item["properties"] = properties
        data.append(item)
    body: dict[str, Any] = {"event_source": event_source, "event_source_id": event_source_id, "data": data}
    if partner_name:
        body["partner_name"] = partner_name
    if test_event_code:
        body["test_event_code"] = test_event_code
    return body


def encode_body(body: Mapping[str, Any]) -> bytes:
    """The exact bytes posted (and stored in the "Sent to TikTok" log): compact JSON, UTF-8."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
