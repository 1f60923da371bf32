"""Prometheus figures of the signal outbox, computed at scrape time."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric

from signals.models import SignalEvent


def outbox_metrics() -> Iterable[Metric]:
    rows = GaugeMetricFamily("switchboard_signal_events", "Signal outbox rows by status", labels=["status"])
    counts = dict(SignalEvent.objects.values_list("status").annotate(n=Count("id")))
    for status in SignalEvent.Status.values:
        rows.add_metric([status], counts.get(status, 0))
    yield rows

    oldest = SignalEvent.objects.filter(status=SignalEvent.Status.PENDING).aggregate(oldest=Min("created_at"))
    lag = (timezone.now() - oldest["oldest"]).total_seconds() if oldest["oldest"] else 0.0
    yield GaugeMetricFamily("switchboard_signal_delivery_lag_seconds", "Age of the oldest pending signal", value=lag)
