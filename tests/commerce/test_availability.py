"""Free slots from opening hours, blackouts, existing bookings and buffers, in the resource's time zone."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from inbox.commerce.models import Reservation
from inbox.commerce.services import availability
from tests.commerce.factories import ResourceFactory
from tests.factories import OrganizationFactory

pytestmark = [pytest.mark.core, pytest.mark.django_db]

JAKARTA = ZoneInfo("Asia/Jakarta")
DAY = date(2031, 3, 3)  # a Monday, far enough ahead to be in the future
NOW = datetime(2031, 3, 1, tzinfo=JAKARTA)


@pytest.fixture
def room():
    return ResourceFactory(
        organization=OrganizationFactory(), time_zone="Asia/Jakarta", slot_minutes=60, buffer_minutes=15,
        opening_hours={"mon": [["09:00", "12:00"], ["13:00", "15:00"]]}, blackout_dates=["2031-03-10"],
    )


def labels(slots):
    return [s.starts_at.astimezone(JAKARTA).strftime("%H:%M") for s in slots]


def book(resource, start: datetime, status: str = "confirmed", **extra):
    from tests.factories import make_channel, make_conversation

    channel = make_channel(resource.organization)
    conversation = make_conversation(channel, customer_id=f"c{start.timestamp()}")
    end = start + timedelta(minutes=resource.slot_minutes)
    return Reservation.objects.create(
        organization=resource.organization, resource=resource, conversation=conversation,
        contact=conversation.contact, channel=channel, starts_at=start, ends_at=end,
        blocked_until=end + timedelta(minutes=resource.buffer_minutes), status=status, **extra,
    )


def test_slots_follow_opening_hours_and_step_by_slot_plus_buffer(room):
    assert labels(availability.free_slots(resource=room, day=DAY, now=NOW)) == ["09:00", "10:15", "13:00"]


def test_closed_days_and_blackouts_have_no_slots(room):
    assert availability.free_slots(resource=room, day=DAY + timedelta(days=1), now=NOW) == []  # Tuesday: closed
    assert availability.free_slots(resource=room, day=date(2031, 3, 10), now=NOW) == []  # blackout Monday


def test_a_booking_and_its_buffer_take_their_slots(room):
    book(room, datetime(2031, 3, 3, 10, 15, tzinfo=JAKARTA))
    assert labels(availability.free_slots(resource=room, day=DAY, now=NOW)) == ["09:00", "13:00"]


def test_an_odd_booking_blocks_every_slot_it_touches_with_buffers(room):
    book(room, datetime(2031, 3, 3, 9, 30, tzinfo=JAKARTA))  # 09:30-10:30, blocked to 10:45
    # 09:00 would need 09:00-10:15 blocked: overlaps. 10:15 overlaps 10:45.
    assert labels(availability.free_slots(resource=room, day=DAY, now=NOW)) == ["13:00"]


def test_cancelled_and_expired_holds_free_their_slots(room):
    book(room, datetime(2031, 3, 3, 9, 0, tzinfo=JAKARTA), status="cancelled")
    book(room, datetime(2031, 3, 3, 10, 15, tzinfo=JAKARTA), status="held", hold_expires_at=NOW - timedelta(1))
    assert labels(availability.free_slots(resource=room, day=DAY, now=NOW)) == ["09:00", "10:15", "13:00"]
    book(room, datetime(2031, 3, 3, 13, 0, tzinfo=JAKARTA), status="held", hold_expires_at=NOW + timedelta(1))
    assert labels(availability.free_slots(resource=room, day=DAY, now=NOW)) == ["09:00", "10:15"]


def test_past_slots_are_not_offered(room):
    now = datetime(2031, 3, 3, 10, 0, tzinfo=JAKARTA)
    assert labels(availability.free_slots(resource=room, day=DAY, now=now)) == ["10:15", "13:00"]


def test_local_time_zone_is_respected(room):
    slot = availability.free_slots(resource=room, day=DAY, now=NOW)[0]
    assert slot.starts_at == datetime(2031, 3, 3, 2, 0, tzinfo=ZoneInfo("UTC"))
    assert slot.label == "Mon 03 Mar, 09:00"


@pytest.mark.parametrize(
    ("start", "minutes", "message"),
    [
        (datetime(2031, 3, 3, 11, 30, tzinfo=JAKARTA), 60, "not open for the whole"),
        (datetime(2031, 3, 4, 9, 0, tzinfo=JAKARTA), 60, "not open"),
        (datetime(2031, 3, 10, 9, 0, tzinfo=JAKARTA), 60, "closed on 2031-03-10"),
        (datetime(2031, 2, 1, 9, 0, tzinfo=JAKARTA), 60, "passed"),
    ],
)
def test_check_bookable(room, start, minutes, message):
    with pytest.raises(ValidationError, match=message):
        availability.check_bookable(resource=room, starts_at=start, ends_at=start + timedelta(minutes=minutes),
                                    now=NOW)


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ({"mon": [["17:00", "09:00"]]}, "closes before it opens"),
        ({"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}, "overlap"),
        ({"monday": []}, "Unknown weekday"),
        ({"mon": [["9am", "5pm"]]}, "HH:MM"),
        ([], "must be an object"),
    ],
)
def test_opening_hours_validation(hours, message):
    with pytest.raises(ValidationError, match=message):
        availability.validate_opening_hours(hours)
