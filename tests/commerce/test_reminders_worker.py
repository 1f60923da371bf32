"""Reminders go out exactly once each, with real Celery workers: concurrent runs, a killed worker, a new one."""

from __future__ import annotations

import signal
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from inbox.commerce.models import ReminderSent, Reservation
from inbox.commerce.services import reservations
from inbox.commerce.tasks import send_reminders
from inbox.models import Message
from tests.processes import celery_worker, wait_until

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_each_reminder_once_across_a_worker_restart(shop):
    reservation, _ = reservations.reservation_hold(
        user=shop.agent, conversation=shop.conversation, resource=shop.table,
        starts_at=timezone.now().replace(microsecond=0) + timedelta(hours=1, minutes=30), confirm=True,
    )
    Reservation.objects.filter(pk=reservation.pk).update(created_at=timezone.now() - timedelta(days=2))
    reminders = Message.objects.filter(conversation=shop.conversation, body__startswith="Reminder:")

    with celery_worker() as worker:
        for _ in range(4):  # beat firing while a previous run is still going
            send_reminders.delay()
        wait_until(lambda: reminders.filter(status="sent").count() == 2, timeout=30, message="2 reminders sent")
        worker.send_signal(signal.SIGKILL)  # an abrupt stop, not a clean shutdown
        worker.wait()

    with celery_worker():
        for _ in range(3):
            send_reminders.delay()
        wait_until(lambda: ReminderSent.objects.count() == 2, timeout=10)
        time.sleep(3)  # let the new worker run every queued task

    assert reminders.count() == 2
    assert sorted(ReminderSent.objects.values_list("kind", flat=True)) == ["24h", "2h"]
    assert all(m.status == "sent" for m in reminders)
