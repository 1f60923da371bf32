"""The outbox row commits with the message or not at all; one delivery enqueue per transaction."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import transaction

from inbox.models import Message
from signals.models import ConversationFlag, SignalDelivery, SignalEvent
from signals.services import outbox
from tests.signals.conftest import make_shop

pytestmark = [pytest.mark.core, pytest.mark.django_db(transaction=True)]


class Boom(Exception):
    pass


def test_rollback_leaves_no_outbox_row_no_flag_and_enqueues_nothing(monkeypatch):
    shop = make_shop(sandbox=True)
    enqueued = []
    monkeypatch.setattr("signals.tasks.deliver_pending.delay", lambda: enqueued.append(1))
    with pytest.raises(Boom), transaction.atomic():
        shop.receive("payment please #TT-rollback1")
        assert SignalEvent.objects.count() == 2  # written inside the transaction...
        raise Boom
    assert not SignalEvent.objects.exists()  # ...and gone with it
    assert not ConversationFlag.objects.exists() and not Message.objects.exists()
    assert enqueued == []
    # The next transaction on the same connection still enqueues (the per-transaction marker was not stuck).
    shop.receive("payment please")
    assert enqueued == [1]


def test_commit_writes_rows_and_enqueues_once_per_transaction(monkeypatch):
    shop = make_shop(sandbox=True)
    enqueued = []
    monkeypatch.setattr("signals.tasks.deliver_pending.delay", lambda: enqueued.append(1))
    with transaction.atomic():
        shop.receive("payment #TT-commit001", customer="a")
        shop.receive("bank transfer #TT-commit002", customer="b")
    assert SignalEvent.objects.count() == 4
    assert enqueued == [1]
    shop.receive("nothing to report", customer="c")
    assert enqueued == [1]  # no rows, no enqueue


@pytest.mark.skipif(not settings.CELERY_TASK_ALWAYS_EAGER, reason="the embedded mode runs tasks in-process")
def test_embedded_mode_delivers_to_the_sandbox_after_commit():
    shop = make_shop(sandbox=True)
    shop.receive("payment #TT-embedded1")
    assert set(SignalEvent.objects.values_list("status", flat=True)) == {"delivered"}
    assert SignalDelivery.objects.get().outcome == "delivered"


def test_schedule_delivery_outside_a_transaction_runs_on_commit(monkeypatch):
    calls = []
    monkeypatch.setattr("signals.tasks.deliver_pending.delay", lambda: calls.append(1))
    outbox.schedule_delivery()  # autocommit: on_commit runs at once
    assert calls == [1]
