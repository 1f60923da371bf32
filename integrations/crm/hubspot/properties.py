"""From Switchboard's rows and event payloads to HubSpot properties. Pure functions: no database, no network.

Property names come from the organization's field mapping; values follow HubSpot's formats (dates as ISO 8601
or epoch milliseconds, numbers as strings). https://developers.hubspot.com/docs/api/crm/properties
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.dateparse import parse_datetime

_NOT_DIGITS = re.compile(r"[^\d]")


def e164(raw: str) -> str:
    """A phone number in E.164 (``+`` and 8 to 15 digits), or "" when it cannot be one.

    WhatsApp ids and most stored numbers carry the country code already; a leading ``00`` is the international
    prefix. A national number without its country code cannot be completed here and is not sent.
    """
    raw = (raw or "").strip()
    if not raw:
        return ""
    digits = _NOT_DIGITS.sub("", raw)
    if not raw.startswith("+") and digits.startswith("00"):
        digits = digits[2:]
    if digits.startswith("0") or not 8 <= len(digits) <= 15:
        return ""
    return f"+{digits}"


@dataclass(frozen=True)
class ContactFacts:
    """What Switchboard knows about a contact, independent of HubSpot."""

    id: int
    name: str
    email: str
    phone: str  # E.164 or ""
    channels: tuple[str, ...]
    url: str

    @property
    def first_name(self) -> str:
        return self.name.split(None, 1)[0] if self.name.strip() else ""

    @property
    def last_name(self) -> str:
        parts = self.name.split(None, 1)
        return parts[1] if len(parts) > 1 else ""


def contact_properties(facts: ContactFacts, mapping: Mapping[str, str]) -> dict[str, str]:
    """Properties to send for a contact; empty values are left out so they never blank what HubSpot has."""
    values = {
        "first_name": facts.first_name,
        "last_name": facts.last_name,
        "email": facts.email.strip().lower(),
        "phone": facts.phone,
        "channels": ";".join(facts.channels),
        "contact_url": facts.url,
        "switchboard_id": str(facts.id),
    }
    return {prop: values[field] for field, prop in mapping.items() if prop and field in values and values[field]}


def fingerprint(properties: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(properties, sort_keys=True).encode()).hexdigest()


def epoch_ms(value: str | datetime | None) -> str | None:
    if not value:
        return None
    moment = value if isinstance(value, datetime) else parse_datetime(str(value))
    return str(int(moment.timestamp() * 1000)) if moment else None


def amount(value: Any) -> str | None:
    try:
        return str(Decimal(str(value))) if value not in (None, "") else None
    except InvalidOperation:
        return None


def deal_properties(
    order: Mapping[str, Any], *, stage_mapping: Mapping[str, str], pipeline: str, creating: bool
) -> dict[str, str]:
    """A deal for an order: name, amount, currency, stage from the order status, close date when paid."""
    properties = {
        "dealname": f"Order {order.get('number') or order.get('id')}",
        "amount": amount(order.get("total")),
        "deal_currency_code": (order.get("currency") or "").upper() or None,
        "closedate": epoch_ms(order.get("paid_at")),
    }
    stage = stage_mapping.get(str(order.get("status") or ""))
    if stage:
        properties["dealstage"] = stage
        properties["pipeline"] = pipeline
    elif creating:
        # HubSpot needs a stage to create a deal; an unmapped status starts in the pipeline's first stage.
        properties["dealstage"] = stage_mapping.get("draft") or "appointmentscheduled"
        properties["pipeline"] = pipeline
    return {k: v for k, v in properties.items() if v is not None}


def meeting_properties(reservation: Mapping[str, Any]) -> dict[str, str]:
    start = epoch_ms(reservation.get("starts_at"))
    end = epoch_ms(reservation.get("ends_at"))
    title = reservation.get("resource_name") or "Reservation"
    properties = {
        "hs_timestamp": start,
        "hs_meeting_title": f"{title} (reservation {reservation.get('id')})",
        "hs_meeting_start_time": start,
        "hs_meeting_end_time": end or start,
        "hs_meeting_outcome": "SCHEDULED" if reservation.get("status") != "cancelled" else "CANCELED",
        "hs_meeting_body": f"Booked through Switchboard: {title}.",
    }
    return {k: v for k, v in properties.items() if v is not None}


def _escape(text: str) -> str:
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def note_body(
    *,
    channel: str,
    agent: str,
    labels: Iterable[str],
    url: str,
    transcript: Iterable[tuple[str, str]] | None,
) -> str:
    """A timeline note (HubSpot renders simple HTML) for a resolved conversation."""
    lines = [
        "<p><strong>Conversation resolved in Switchboard</strong></p>",
        f"<p>Channel: {_escape(channel)}<br>Agent: {_escape(agent or 'unassigned')}<br>"
        f"Labels: {_escape(', '.join(labels) or 'none')}<br>"
        f'<a href="{_escape(url)}">Open in Switchboard</a></p>',
    ]
    if transcript is not None:
        lines.append("<p><strong>Transcript</strong></p>")
        lines += [f"<p><em>{_escape(who)}:</em> {_escape(text)}</p>" for who, text in transcript]
    return "\n".join(lines)
