"""Reservations: hold, confirm, cancel; no double booking; holds expire; reminders once; .ics."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from inbox.commerce.models import ReminderSent, Reservation
from inbox.commerce.services import reservations
from inbox.commerce.transitions import RESERVATION_TRANSITIONS, TransitionError
from inbox.models import Message
from tests.commerce.conftest import at_hour

pytestmark = [pytest.mark.core, pytest.mark.django_db]

RESERVATION_KEYS = {"id", "resource_id", "resource_name", "status", "starts_at", "ends_at", "party_size",
                    "contact_id", "conversation_id", "channel_id"}


def hold(shop, when=None, **kwargs):
    return reservations.reservation_hold(user=shop.agent, conversation=shop.conversation, resource=shop.table,
                                         starts_at=when or at_hour(), **kwargs)[0]


def test_hold_then_confirm_sends_the_confirmation_with_a_calendar_link(shop, client, published):
    reservation = hold(shop, party_size=3)
    assert reservation.status == "held"
    assert reservation.hold_expires_at > timezone.now()
    reservation, outcome = reservations.reservation_confirm(user=shop.agent, reservation=reservation)
    assert reservation.status == "confirmed" and outcome.sent
    body = Message.objects.get(conversation=shop.conversation).body
    assert body.startswith("Your booking is confirmed: Table 1 for 3,")
    link = body.rsplit(" ", 1)[1]
    assert link.endswith(".ics")
    ics = client.get(link.replace("http://localhost:8000", ""))
    assert ics.status_code == 200 and ics["Content-Type"].startswith("text/calendar")
    text = ics.content.decode()
    assert "BEGIN:VEVENT" in text and "DTSTART:" in text and "STATUS:CONFIRMED" in text and "\r\n" in text
    assert [name for name, _ in published] == ["reservation.created", "reservation.confirmed"]
    for _, payload in published:
        assert set(payload["reservation"]) == RESERVATION_KEYS
        json.dumps(payload)


def test_the_same_time_cannot_be_booked_twice(shop):
    hold(shop)
    with pytest.raises(ValidationError, match="just booked by someone else"):
        hold(shop)
    with pytest.raises(ValidationError, match="just booked"):
        hold(shop, when=at_hour() + timedelta(minutes=30))
    hold(shop, when=at_hour() + timedelta(hours=1))  # back to back is fine
    assert Reservation.objects.count() == 2


def test_buffer_keeps_a_gap(shop):
    shop.table.buffer_minutes = 30
    shop.table.save()
    hold(shop)
    with pytest.raises(ValidationError, match="just booked"):
        hold(shop, when=at_hour() + timedelta(hours=1))
    hold(shop, when=at_hour() + timedelta(hours=1, minutes=30))


def test_an_expired_hold_frees_the_time_for_the_next_customer(shop):
    first = hold(shop)
    Reservation.objects.filter(pk=first.pk).update(hold_expires_at=timezone.now() - timedelta(seconds=1))
    second = hold(shop)
    first.refresh_from_db()
    assert (first.status, first.cancel_reason, second.status) == ("cancelled", "hold expired", "held")
    with pytest.raises(ValidationError, match="hold has expired"):
        Reservation.objects.filter(pk=second.pk).update(hold_expires_at=timezone.now() - timedelta(seconds=1))
        reservations.reservation_confirm(user=shop.agent, reservation=second)


def test_sweep_expires_holds(shop, published):
    reservation = hold(shop)
    Reservation.objects.filter(pk=reservation.pk).update(hold_expires_at=timezone.now() - timedelta(seconds=1))
    assert reservations.reservations_expire_holds() == 1
    assert reservations.reservations_expire_holds() == 0
    assert Reservation.objects.get(pk=reservation.pk).status == "cancelled"
    assert published[-1][0] == "reservation.updated"


def test_party_larger_than_capacity_is_refused(shop):
    with pytest.raises(ValidationError, match="parties of 1 to 4"):
        hold(shop, party_size=5)


def test_cancelling_a_confirmed_booking_tells_the_customer(shop):
    reservation = hold(shop, confirm=True)
    reservation, outcome = reservations.reservation_transition(user=shop.agent, reservation=reservation,
                                                               to="cancelled", reason="kitchen closed")
    assert outcome.sent and reservation.cancel_reason == "kitchen closed"
    assert Message.objects.filter(body__startswith="Your booking of Table 1 on").count() == 1
    hold(shop)  # the time is free again


STATUSES = list(RESERVATION_TRANSITIONS)
FORBIDDEN = [(a, b) for a, b in itertools.product(STATUSES, STATUSES) if b not in RESERVATION_TRANSITIONS[a]]
ALLOWED = [(a, b) for a in STATUSES for b in sorted(RESERVATION_TRANSITIONS[a])]


@pytest.mark.parametrize(("source", "target"), ALLOWED)
def test_allowed_reservation_move(shop, source, target):
    reservation = hold(shop)
    started = timezone.now() - timedelta(minutes=5)
    Reservation.objects.filter(pk=reservation.pk).update(status=source, starts_at=started,
                                                         ends_at=started + timedelta(hours=1),
                                                         blocked_until=started + timedelta(hours=1))
    updated, _ = reservations.reservation_transition(user=shop.agent, reservation=reservation, to=target)
    assert updated.status == target


@pytest.mark.parametrize(("source", "target"), FORBIDDEN)
def test_forbidden_reservation_move(shop, source, target):
    reservation = hold(shop)
    Reservation.objects.filter(pk=reservation.pk).update(status=source)
    with pytest.raises(TransitionError):
        reservations.reservation_transition(user=shop.agent, reservation=reservation, to=target)
    assert Reservation.objects.get(pk=reservation.pk).status == source


def test_completed_only_after_the_start(shop):
    reservation = hold(shop, confirm=True)
    with pytest.raises(ValidationError, match="once it has started"):
        reservations.reservation_transition(user=shop.agent, reservation=reservation, to="completed")


def test_each_reminder_is_sent_once(shop):
    reservation = hold(shop, when=timezone.now().replace(microsecond=0) + timedelta(hours=1, minutes=30),
                       confirm=True)
    Reservation.objects.filter(pk=reservation.pk).update(created_at=timezone.now() - timedelta(days=3))
    assert reservations.reservations_send_reminders() == 2  # both the 24h and the 2h reminders are due
    assert reservations.reservations_send_reminders() == 0
    reminders = Message.objects.filter(body__startswith="Reminder: your booking of Table 1")
    assert reminders.count() == 2
    assert set(ReminderSent.objects.values_list("kind", flat=True)) == {"24h", "2h"}


def test_no_reminder_for_a_booking_made_inside_the_lead_time(shop):
    hold(shop, when=timezone.now().replace(microsecond=0) + timedelta(hours=1, minutes=30), confirm=True)
    assert reservations.reservations_send_reminders() == 0


def test_a_reminder_that_cannot_be_sent_is_not_retried(shop, monkeypatch):
    from inbox import channel_rules

    reservation = hold(shop, when=timezone.now().replace(microsecond=0) + timedelta(hours=1), confirm=True)
    Reservation.objects.filter(pk=reservation.pk).update(created_at=timezone.now() - timedelta(days=3))
    monkeypatch.setitem(channel_rules._rules, "sandbox", channel_rules.ChannelRules(reply_window=timedelta(hours=24)))
    shop.conversation.last_inbound_at = timezone.now() - timedelta(days=2)
    shop.conversation.save()
    assert reservations.reservations_send_reminders() == 0
    assert ReminderSent.objects.filter(skipped_reason__contains="reply window").count() == 2
    assert reservations.reservations_send_reminders() == 0


def test_the_database_refuses_overlaps_on_postgresql(shop):
    """Bypassing the service (no lock, no check) still cannot double-book: the exclusion constraint."""
    if connection.vendor != "postgresql":
        pytest.skip("the exclusion constraint exists on PostgreSQL; SQLite relies on the serialized check")
    first = hold(shop)
    with pytest.raises(IntegrityError), transaction.atomic():
        Reservation.objects.create(
            organization=shop.organization, resource=shop.table, conversation=shop.conversation,
            contact=shop.conversation.contact, channel=shop.channel, starts_at=first.starts_at + timedelta(minutes=10),
            ends_at=first.ends_at, blocked_until=first.ends_at, status="confirmed",
        )
