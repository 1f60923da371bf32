"""Free times of a resource: opening hours (local to the resource), blackout dates, existing bookings, buffers.

The same overlap rule as the database constraint: a booking blocks ``[starts_at, ends_at + buffer)``, and a new
booking's block may not overlap any other blocking reservation's. Slots step by slot + buffer, so back-to-back
bookings fit exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from inbox.commerce.models import Reservation, Resource
from inbox.commerce.models.reservations import WEEKDAYS

HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")
MAX_DAYS_AHEAD = 366


@dataclass(frozen=True)
class Slot:
    starts_at: datetime
    ends_at: datetime
    label: str  # local time in the resource's zone, for the agent and the customer

    def as_dict(self) -> dict[str, Any]:
        return {"starts_at": self.starts_at.isoformat(), "ends_at": self.ends_at.isoformat(), "label": self.label}


def validate_time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(
            gettext("%(name)s is not a time zone (for example Asia/Jakarta, Europe/Paris, UTC).") % {"name": repr(name)}
        ) from exc
    return name


def _minutes(value: str) -> int:
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def validate_opening_hours(value: Any) -> dict[str, list[list[str]]]:
    """``{"mon": [["09:00", "17:00"]], ...}``: every weekday key, ranges ``HH:MM`` with open < close, not
    overlapping. Missing days are closed."""
    if not isinstance(value, dict):
        raise ValidationError(gettext('Opening hours must be an object like {"mon": [["09:00", "17:00"]]}.'))
    unknown = set(value) - set(WEEKDAYS)
    if unknown:
        raise ValidationError(
            gettext("Unknown weekday(s) %(value)s: use %(value2)s.")
            % {"value": ", ".join(sorted(unknown)), "value2": ", ".join(WEEKDAYS)}
        )
    cleaned: dict[str, list[list[str]]] = {}
    for day in WEEKDAYS:
        ranges = value.get(day) or []
        if not isinstance(ranges, list):
            raise ValidationError(gettext("%(day)s: a list of [open, close] pairs.") % {"day": day})
        spans = []
        for pair in ranges:
            if not (isinstance(pair, list | tuple) and len(pair) == 2 and all(isinstance(p, str) for p in pair)):
                raise ValidationError(gettext('%(day)s: each range is ["HH:MM", "HH:MM"].') % {"day": day})
            if not (HHMM.match(pair[0]) and HHMM.match(pair[1])):
                raise ValidationError(
                    gettext("%(day)s: %(value)s-%(value2)s is not HH:MM-HH:MM.")
                    % {"day": day, "value": pair[0], "value2": pair[1]}
                )
            if _minutes(pair[0]) >= _minutes(pair[1]):
                raise ValidationError(
                    gettext("%(day)s: %(value)s-%(value2)s closes before it opens.")
                    % {"day": day, "value": pair[0], "value2": pair[1]}
                )
            spans.append([pair[0], pair[1]])
        spans.sort(key=lambda p: _minutes(p[0]))
        for earlier, later in zip(spans, spans[1:], strict=False):
            if _minutes(later[0]) < _minutes(earlier[1]):
                raise ValidationError(
                    gettext("%(day)s: %(value)s-%(value2)s and %(value3)s-%(value4)s overlap.")
                    % {"day": day, "value": earlier[0], "value2": earlier[1], "value3": later[0], "value4": later[1]}
                )
        cleaned[day] = spans
    return cleaned


def validate_blackout_dates(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [part.strip() for part in value.replace("\n", ",").split(",") if part.strip()]
    if not isinstance(value, list):
        raise ValidationError(gettext("Blackout dates are a list of YYYY-MM-DD dates."))
    dates = []
    for item in value:
        try:
            dates.append(date.fromisoformat(str(item)).isoformat())
        except ValueError as exc:
            raise ValidationError(gettext("%(item)s is not a date (YYYY-MM-DD).") % {"item": repr(item)}) from exc
    return sorted(set(dates))


def _local_bounds(resource: Resource, day: date, start: str, end: str) -> tuple[datetime, datetime]:
    zone = ZoneInfo(resource.time_zone)
    opens = datetime.combine(day, time.fromisoformat(start), tzinfo=zone)
    closes = (
        datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
        if end == "24:00"
        else datetime.combine(day, time.fromisoformat(end), tzinfo=zone)
    )
    return opens, closes


def opening_spans(resource: Resource, day: date) -> list[tuple[datetime, datetime]]:
    if day.isoformat() in (resource.blackout_dates or []):
        return []
    ranges = (resource.opening_hours or {}).get(WEEKDAYS[day.weekday()], [])
    return [_local_bounds(resource, day, start, end) for start, end in ranges]


def blocking_reservations(resource: Resource, start: datetime, end: datetime, *, now: datetime | None = None):
    """Reservations of the resource whose blocked range overlaps ``[start, end)``; holds past their expiry no
    longer count (the booking service cancels them before it checks)."""
    now = now or timezone.now()
    return Reservation.objects.filter(
        resource=resource,
        status__in=Reservation.BLOCKING_STATUSES,
        starts_at__lt=end,
        blocked_until__gt=start,
    ).exclude(Q(status=Reservation.Status.HELD) & Q(hold_expires_at__lte=now))


def free_slots(*, resource: Resource, day: date, now: datetime | None = None) -> list[Slot]:
    """Free slots of ``resource`` on the local date ``day``, in time order; none in the past."""
    now = now or timezone.now()
    slot = timedelta(minutes=resource.slot_minutes)
    buffer = timedelta(minutes=resource.buffer_minutes)
    spans = opening_spans(resource, day)
    if not spans:
        return []
    taken = list(
        blocking_reservations(resource, spans[0][0], spans[-1][1] + buffer, now=now).values_list(
            "starts_at", "blocked_until"
        )
    )
    zone = ZoneInfo(resource.time_zone)
    slots = []
    for opens, closes in spans:
        start = opens
        while start + slot <= closes:
            end = start + slot
            if start >= now and not any(s < end + buffer and start < b for s, b in taken):
                local = start.astimezone(zone)
                slots.append(Slot(start, end, f"{local:%a %d %b, %H:%M}"))
            start = end + buffer
    return slots


def check_bookable(*, resource: Resource, starts_at: datetime, ends_at: datetime, now: datetime | None = None) -> None:
    """``ValidationError`` unless ``[starts_at, ends_at)`` lies in one opening span of a non-blackout day, in the
    future and within a year. Overlaps with other bookings are checked by the booking service under its lock."""
    now = now or timezone.now()
    if timezone.is_naive(starts_at) or timezone.is_naive(ends_at):
        raise ValidationError(gettext("Times need a time zone offset."))
    if ends_at <= starts_at:
        raise ValidationError(gettext("A booking must end after it starts."))
    if starts_at < now:
        raise ValidationError(gettext("That time has passed."))
    if starts_at > now + timedelta(days=MAX_DAYS_AHEAD):
        raise ValidationError(gettext("Bookings can be made at most a year ahead."))
    local_day = starts_at.astimezone(ZoneInfo(resource.time_zone)).date()
    if local_day.isoformat() in (resource.blackout_dates or []):
        raise ValidationError(
            gettext("%(name)s is closed on %(value)s.") % {"name": resource.name, "value": local_day.isoformat()}
        )
    if not any(opens <= starts_at and ends_at <= closes for opens, closes in opening_spans(resource, local_day)):
        raise ValidationError(gettext("%(name)s is not open for the whole of that time.") % {"name": resource.name})
