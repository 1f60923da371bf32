"""Bookable resources and reservations of them.

No double booking: a resource is booked by one reservation at a time. Each reservation blocks the range
``[starts_at, blocked_until)`` where ``blocked_until = ends_at + resource.buffer_minutes`` (cleanup time after a
booking). On PostgreSQL an exclusion constraint (btree_gist) makes overlapping blocking ranges of one resource
impossible; on SQLite the booking service checks under a lock (see ``services/reservations.py``).

Capacity: ``capacity`` is the largest party one booking of the resource may take (a table for 4, a room for 12).
It is not a pool of seats: two parties never share a resource at the same time. To sell several identical units
(five tables for two), create five resources.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

from inbox.models import Channel, Contact, Conversation, Organization

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def default_opening_hours() -> dict[str, list[list[str]]]:
    return {day: [["09:00", "17:00"]] for day in WEEKDAYS[:5]} | {"sat": [], "sun": []}


def new_token() -> str:
    return secrets.token_urlsafe(24)


class Resource(models.Model):
    class Kind(models.TextChoices):
        TABLE = "table", gettext_lazy("Table")
        ROOM = "room", gettext_lazy("Room")
        STAFF = "staff", gettext_lazy("Staff member")
        SERVICE = "service", gettext_lazy("Service")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="resources")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.TABLE)
    capacity = models.PositiveIntegerField(default=1)
    time_zone = models.CharField(max_length=64, default="UTC")
    slot_minutes = models.PositiveIntegerField(default=60)
    buffer_minutes = models.PositiveIntegerField(default=0)
    # {"mon": [["09:00", "12:00"], ["13:00", "17:00"]], ..., "sun": []}: local times in ``time_zone``.
    opening_hours = models.JSONField(default=default_opening_hours)
    blackout_dates = models.JSONField(default=list, blank=True)  # ["2026-12-25", ...]
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="resource_unique_name_per_org"),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="resource_capacity_positive"),
            models.CheckConstraint(condition=Q(slot_minutes__gte=5), name="resource_slot_at_least_5_minutes"),
        ]

    def __str__(self) -> str:
        return self.name


class Reservation(models.Model):
    class Status(models.TextChoices):
        HELD = "held", gettext_lazy("Held")
        CONFIRMED = "confirmed", gettext_lazy("Confirmed")
        COMPLETED = "completed", gettext_lazy("Completed")
        NO_SHOW = "no_show", gettext_lazy("No-show")
        CANCELLED = "cancelled", gettext_lazy("Cancelled")

    # Every status but cancelled keeps its time blocked (completed and no-show are history, still occupied).
    BLOCKING_STATUSES = ("held", "confirmed", "completed", "no_show")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="reservations")
    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="reservations")
    conversation = models.ForeignKey(Conversation, on_delete=models.PROTECT, related_name="reservations")
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="reservations")
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="reservations")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    blocked_until = models.DateTimeField()  # ends_at + the resource's buffer, fixed when booked
    party_size = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.HELD)
    hold_expires_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True, default="")
    cancel_reason = models.CharField(max_length=200, blank=True, default="")
    # Unguessable id for the customer's .ics link (the customer has no Switchboard login).
    public_token = models.CharField(max_length=64, unique=True, default=new_token)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="reservation_ends_after_start"),
            models.CheckConstraint(
                condition=Q(blocked_until__gte=models.F("ends_at")), name="reservation_block_covers_booking"
            ),
            models.CheckConstraint(condition=Q(party_size__gte=1), name="reservation_party_size_positive"),
        ]
        indexes = [
            models.Index(fields=["resource", "starts_at"], name="reservation_resource_start"),
            models.Index(fields=["organization", "status", "starts_at"], name="reservation_org_status_start"),
            models.Index(fields=["status", "hold_expires_at"], name="reservation_status_hold"),
        ]

    def __str__(self) -> str:
        return f"{self.resource} {self.starts_at:%Y-%m-%d %H:%M}"


class ReminderSent(models.Model):
    """A reminder claimed for a reservation: the unique constraint makes each reminder go out at most once, even
    when two beat runs or a restarted worker race for it. The claim and the queued message commit together."""

    reservation = models.ForeignKey(Reservation, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=20)  # "24h", "2h": which lead time of COMMERCE_RESERVATION_REMINDERS
    message_id = models.BigIntegerField(null=True, blank=True)
    skipped_reason = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["reservation", "kind"], name="reminder_once_per_kind")]
