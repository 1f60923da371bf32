"""Pure rule conditions and business hours: what must be true of the conversation and the time for a rule to fire.

A rule's ``conditions`` is a small JSON document; every key present must hold (AND); an absent key is "any".

* ``channel_ids``: [ids] / ``channel_kinds``: ["whatsapp", ...]
* ``labels_any``: [names]: the conversation carries at least one of them (needs inbox labels)
* ``statuses``: ["open", "pending", ...] / ``assigned``: true (someone is assigned) or false (nobody)
* ``contact``: "new" (first conversation of this contact) or "returning"
* ``tracking_id``: true (the conversation came from a campaign with a tracking ID) or false
* ``business_hours``: "open" or "closed" (organization time zone, weekly hours and holidays)
* ``days``: [0-6] (0 = Monday) and ``time_from`` / ``time_to`` ("HH:MM", organization time zone; a range that
  wraps midnight, 22:00-06:00, works)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
STATUSES = ("open", "pending", "snoozed", "resolved")
CHANNEL_KINDS = ("sandbox", "whatsapp", "messenger", "tiktok")


@dataclass(frozen=True)
class MessageContext:
    """Everything conditions look at, gathered once per message (or typed into the sandbox)."""

    channel_id: int | None
    channel_kind: str
    local_time: datetime  # aware, in the organization's time zone
    business_open: bool
    status: str = "open"
    assigned: bool = False
    labels: frozenset[str] | None = None  # None: labels are not available
    returning_contact: bool = False
    has_tracking_id: bool = False
    first_message: bool = False


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def parse_hhmm(value: str) -> time:
    try:
        hours, minutes = str(value).split(":")
        return time(int(hours), int(minutes))
    except (ValueError, TypeError):
        raise ValueError(f"“{value}” is not a time of day like 09:30.") from None


def _within(t: time, start: time, end: time) -> bool:
    if start <= end:
        return start <= t < end
    return t >= start or t < end  # wraps midnight


def is_open(weekly: Mapping[str, Any], holidays: list[str], local: datetime) -> bool:
    """Whether the business is open at ``local`` (a time in its zone). No hours configured at all: always open."""
    if not any(weekly.get(str(d)) for d in range(7)):
        return True
    if local.date().isoformat() in set(holidays or []):
        return False
    for start, end in weekly.get(str(local.weekday())) or []:
        if _within(local.time(), parse_hhmm(start), parse_hhmm(end)):
            return True
    return False


def clean_business_hours(weekly: Mapping[str, Any], holidays: list[str]) -> tuple[dict[str, list], list[str]]:
    """Validate weekly hours and holidays; raise ``ValueError`` with the first problem."""
    cleaned: dict[str, list] = {}
    for day in range(7):
        ranges = []
        for item in weekly.get(str(day)) or []:
            if not isinstance(item, list | tuple) or len(item) != 2:
                raise ValueError(f"{DAY_NAMES[day]}: each opening is a [start, end] pair.")
            start, end = parse_hhmm(item[0]), parse_hhmm(item[1])
            if start == end:
                raise ValueError(f"{DAY_NAMES[day]}: an opening cannot start and end at the same time.")
            ranges.append([start.strftime("%H:%M"), end.strftime("%H:%M")])
        cleaned[str(day)] = ranges
    days = []
    for item in holidays or []:
        try:
            days.append(date.fromisoformat(str(item).strip()).isoformat())
        except ValueError:
            raise ValueError(f"“{item}” is not a date like 2026-12-25.") from None
    return cleaned, sorted(set(days))


def clean_conditions(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a conditions document; drop empty keys; raise ``ValueError`` naming the bad key."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if value in (None, "", [], ()):
            continue
        if key == "channel_ids":
            out[key] = sorted({int(v) for v in value})
        elif key == "channel_kinds":
            bad = set(value) - set(CHANNEL_KINDS)
            if bad:
                raise ValueError(f"Unknown channel kind: {', '.join(sorted(bad))}.")
            out[key] = sorted(set(value))
        elif key == "statuses":
            bad = set(value) - set(STATUSES)
            if bad:
                raise ValueError(f"Unknown status: {', '.join(sorted(bad))}.")
            out[key] = sorted(set(value))
        elif key == "labels_any":
            out[key] = sorted({str(v).strip() for v in value if str(v).strip()})
        elif key in ("assigned", "tracking_id"):
            out[key] = bool(value) if isinstance(value, bool) else str(value).lower() in ("true", "yes", "1")
        elif key == "contact":
            if value not in ("new", "returning"):
                raise ValueError("Contact must be “new” or “returning”.")
            out[key] = value
        elif key == "business_hours":
            if value not in ("open", "closed"):
                raise ValueError("Business hours must be “open” or “closed”.")
            out[key] = value
        elif key == "days":
            days = sorted({int(v) for v in value})
            if any(d < 0 or d > 6 for d in days):
                raise ValueError("Days are numbered 0 (Monday) to 6 (Sunday).")
            out[key] = days
        elif key in ("time_from", "time_to"):
            out[key] = parse_hhmm(value).strftime("%H:%M")
        else:
            raise ValueError(f"Unknown condition “{key}”.")
    if ("time_from" in out) != ("time_to" in out):
        raise ValueError("Give both ends of the time range, or neither.")
    return out


def failed_condition(conditions: Mapping[str, Any], ctx: MessageContext) -> str | None:
    """``None`` when every condition holds, else a short sentence saying which one did not."""
    if "channel_ids" in conditions and ctx.channel_id not in conditions["channel_ids"]:
        return "another channel"
    if "channel_kinds" in conditions and ctx.channel_kind not in conditions["channel_kinds"]:
        return f"channel kind is {ctx.channel_kind}"
    if "statuses" in conditions and ctx.status not in conditions["statuses"]:
        return f"status is {ctx.status}"
    if "assigned" in conditions and conditions["assigned"] != ctx.assigned:
        return "assigned" if ctx.assigned else "not assigned"
    if "labels_any" in conditions:
        if ctx.labels is None:
            return "labels are not available yet"
        if not ctx.labels & set(conditions["labels_any"]):
            return "none of the labels"
    if "contact" in conditions and conditions["contact"] != ("returning" if ctx.returning_contact else "new"):
        return "returning contact" if ctx.returning_contact else "new contact"
    if "tracking_id" in conditions and conditions["tracking_id"] != ctx.has_tracking_id:
        return "has a tracking ID" if ctx.has_tracking_id else "no tracking ID"
    if "business_hours" in conditions and conditions["business_hours"] != ("open" if ctx.business_open else "closed"):
        return "within business hours" if ctx.business_open else "outside business hours"
    if "days" in conditions and ctx.local_time.weekday() not in conditions["days"]:
        return f"it is {DAY_NAMES[ctx.local_time.weekday()]}"
    if "time_from" in conditions:
        start, end = parse_hhmm(conditions["time_from"]), parse_hhmm(conditions["time_to"])
        if not _within(ctx.local_time.time(), start, end):
            return f"it is {ctx.local_time:%H:%M}"
    return None
