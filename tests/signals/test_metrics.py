"""The outbox gauge of ``/metrics``: rows waiting and dead letters only, never a count of the whole history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from signals.metrics import outbox_metrics
from signals.models import SignalEvent
from tests.signals.conftest import make_outbox_rows, make_shop

pytestmark = [pytest.mark.core, pytest.mark.django_db]


def test_the_gauge_counts_waiting_and_dead_rows_and_reads_no_delivered_history():
    shop = make_shop(rules=False)
    make_outbox_rows(shop, 40, status="delivered")
    make_outbox_rows(shop, 3, status="pending")
    make_outbox_rows(shop, 2, status="sending")
    make_outbox_rows(shop, 1, status="dead")

    with CaptureQueriesContext(connection) as queries:
        metrics = list(outbox_metrics())

    samples = {s.labels["status"]: s.value for s in metrics[0].samples}
    assert samples == {"pending": 3, "sending": 2, "dead": 1}
    assert metrics[1].samples[0].value == 40  # delivered in the last 24 hours
    lag = metrics[2].samples[0].value
    assert 0 <= lag < 60
    outbox_queries = [q["sql"] for q in queries.captured_queries if "signals_signalevent" in q["sql"]]
    assert outbox_queries
    for sql in outbox_queries:  # every read is limited to statuses a partial index holds, delivered by time
        assert "WHERE" in sql and '"status"' in sql, sql
        assert "delivered" not in sql or '"delivered_at" >=' in sql, sql


def test_rows_delivered_more_than_a_day_ago_leave_the_delivered_gauge():
    shop = make_shop(rules=False)
    make_outbox_rows(shop, 2, status="delivered")
    SignalEvent.objects.update(delivered_at=timezone.now() - timedelta(hours=25))
    make_outbox_rows(shop, 1, status="delivered")

    metrics = list(outbox_metrics())

    assert metrics[1].samples[0].value == 1
