"""An iCalendar (RFC 5545) file for one reservation: what the customer adds to their calendar."""

from __future__ import annotations

from datetime import UTC, datetime

from django.conf import settings
from django.utils import timezone

from inbox.commerce.models import Reservation


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _fold(line: str) -> str:
    # RFC 5545 3.1: lines longer than 75 octets are folded with CRLF + space.
    encoded = line.encode()
    if len(encoded) <= 75:
        return line
    parts, current = [], b""
    for char in line:
        piece = char.encode()
        if len(current) + len(piece) > (75 if not parts else 74):
            parts.append(current.decode())
            current = b""
        current += piece
    parts.append(current.decode())
    return "\r\n ".join(parts)


def reservation_ics(reservation: Reservation) -> str:
    host = settings.PUBLIC_BASE_URL.split("://")[-1].split("/")[0] or "switchboard"
    status = "CANCELLED" if reservation.status == Reservation.Status.CANCELLED else "CONFIRMED"
    organization = reservation.resource.organization.name
    people = f" for {reservation.party_size}" if reservation.party_size > 1 else ""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Switchboard//Reservations//EN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:reservation-{reservation.pk}@{host}",
        f"DTSTAMP:{_utc(timezone.now())}",
        f"DTSTART:{_utc(reservation.starts_at)}",
        f"DTEND:{_utc(reservation.ends_at)}",
        f"SUMMARY:{_escape(f'{reservation.resource.name}{people} at {organization}')}",
        f"STATUS:{status}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
