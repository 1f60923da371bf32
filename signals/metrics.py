"""Prometheus figures of the signal outbox, computed at scrape time.

Rows still waiting or given up on are counted (pending, sending, dead), and rows delivered in the last 24 hours:
each count reads a partial index that holds just those rows (delivered ones by ``delivered_at``), so a scrape
costs the same whatever the delivered history. All-time totals belong to the "Sent to TikTok" log and the
dashboard, not to a gauge recomputed every 15 seconds.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric

from signals.models import SignalEvent

Status = SignalEvent.Status
#: The statuses the gauge reports.
COUNTED = (Status.PENDING, Status.SENDING, Status.DEAD)


def outbox_metrics() -> Iterable[Metric]:
    rows = GaugeMetricFamily(
        "switchboard_signal_events", "Signal outbox rows waiting (pending, sending) or dead", labels=["status"]
    )
    # Two queries, each matching one partial index (``signal_due_rows``, ``signal_dead``).
    counts = dict(
        SignalEvent.objects.filter(status__in=[Status.PENDING, Status.SENDING])
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts[Status.DEAD] = SignalEvent.objects.filter(status=Status.DEAD).count()
    for status in COUNTED:
        rows.add_metric([status], counts.get(status, 0))
    yield rows

    since = timezone.now() - timedelta(hours=24)
    delivered = SignalEvent.objects.filter(status=Status.DELIVERED, delivered_at__gte=since).count()
    yield GaugeMetricFamily(
        "switchboard_signal_events_delivered_24h", "Signal events TikTok accepted in the last 24 hours", value=delivered
    )

    oldest = SignalEvent.objects.filter(status__in=[Status.PENDING, Status.SENDING]).aggregate(oldest=Min("created_at"))
    lag = (timezone.now() - oldest["oldest"]).total_seconds() if oldest["oldest"] else 0.0
    yield GaugeMetricFamily("switchboard_signal_delivery_lag_seconds", "Age of the oldest pending signal", value=lag)
