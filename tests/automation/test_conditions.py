"""Conditions and business hours (pure)."""

from __future__ import annotations

from datetime import datetime

import pytest

from inbox.automation.conditions import MessageContext, clean_conditions, failed_condition, is_open, zone

pytestmark = pytest.mark.core

JAKARTA = zone("Asia/Jakarta")
WEEKLY = {str(d): [["09:00", "12:00"], ["13:00", "17:00"]] for d in range(5)}  # Monday to Friday


def ctx(**overrides) -> MessageContext:
    fields = {
        "channel_id": 1,
        "channel_kind": "whatsapp",
        "local_time": datetime(2026, 3, 2, 10, 0, tzinfo=JAKARTA),  # a Monday
        "business_open": True,
    }
    fields.update(overrides)
    return MessageContext(**fields)


@pytest.mark.parametrize(
    "conditions, overrides, fails",
    [
        ({"channel_ids": [1]}, {}, False),
        ({"channel_ids": [2]}, {}, True),
        ({"channel_kinds": ["whatsapp", "messenger"]}, {}, False),
        ({"channel_kinds": ["tiktok"]}, {}, True),
        ({"statuses": ["open"]}, {"status": "pending"}, True),
        ({"assigned": False}, {"assigned": True}, True),
        ({"assigned": True}, {"assigned": True}, False),
        ({"contact": "new"}, {"returning_contact": True}, True),
        ({"contact": "returning"}, {"returning_contact": True}, False),
        ({"tracking_id": True}, {"has_tracking_id": False}, True),
        ({"labels_any": ["vip"]}, {"labels": frozenset({"vip", "b2b"})}, False),
        ({"labels_any": ["vip"]}, {"labels": frozenset()}, True),
        ({"labels_any": ["vip"]}, {"labels": None}, True),
        ({"business_hours": "closed"}, {"business_open": True}, True),
        ({"days": [5, 6]}, {}, True),
        ({"days": [0]}, {}, False),
        ({"time_from": "09:00", "time_to": "11:00"}, {}, False),
        ({"time_from": "22:00", "time_to": "06:00"}, {}, True),
        (
            {"time_from": "22:00", "time_to": "06:00"},
            {"local_time": datetime(2026, 3, 2, 23, 30, tzinfo=JAKARTA)},
            False,
        ),
    ],
)
def test_each_condition(conditions, overrides, fails):
    reason = failed_condition(clean_conditions(conditions), ctx(**overrides))
    assert (reason is not None) is fails, reason


def test_no_conditions_always_hold():
    assert failed_condition({}, ctx()) is None


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"channel_kinds": ["fax"]}, "Unknown channel kind"),
        ({"time_from": "09:00"}, "both ends"),
        ({"time_from": "9h", "time_to": "10:00"}, "time of day"),
        ({"days": [7]}, "Monday"),
        ({"colour": "red"}, "Unknown"),
    ],
)
def test_invalid_conditions_are_refused(raw, message):
    with pytest.raises(ValueError, match=message):
        clean_conditions(raw)


def test_business_hours_with_lunch_break_weekend_and_holiday():
    monday = datetime(2026, 3, 2, tzinfo=JAKARTA)
    assert is_open(WEEKLY, [], monday.replace(hour=9))
    assert not is_open(WEEKLY, [], monday.replace(hour=12, minute=30))
    assert not is_open(WEEKLY, [], monday.replace(hour=17))
    assert not is_open(WEEKLY, [], datetime(2026, 3, 7, 10, tzinfo=JAKARTA))  # Saturday
    assert not is_open(WEEKLY, ["2026-03-02"], monday.replace(hour=10))
    assert is_open({}, [], monday)  # no hours configured: always open
