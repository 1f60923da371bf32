"""Prometheus figures of the integrations app, computed at scrape time from indexed queries."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.db.models import Count, Min, Sum
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from inbox.models import Message
from integrations.models import InboundWebhook, WebhookRejection


def webhook_metrics() -> Iterable[Metric]:
    stored = GaugeMetricFamily(
        "switchboard_webhooks_stored", "Stored webhook deliveries by provider and status", labels=["provider", "status"]
    )
    for row in InboundWebhook.objects.values("provider", "status").annotate(n=Count("id")):
        stored.add_metric([row["provider"], row["status"]], row["n"])
    yield stored

    rejected = CounterMetricFamily(
        "switchboard_webhooks_rejected", "Deliveries rejected by signature or handshake checks", labels=["provider"]
    )
    for row in WebhookRejection.objects.values("provider").annotate(n=Sum("count")):
        rejected.add_metric([row["provider"]], row["n"] or 0)
    yield rejected

    oldest = InboundWebhook.objects.filter(status=InboundWebhook.Status.RECEIVED).aggregate(oldest=Min("received_at"))
    lag = (timezone.now() - oldest["oldest"]).total_seconds() if oldest["oldest"] else 0.0
    yield GaugeMetricFamily("switchboard_ingest_lag_seconds", "Age of the oldest unprocessed delivery", value=lag)


def reply_metrics() -> Iterable[Metric]:
    since = timezone.now() - timedelta(hours=24)
    replies = GaugeMetricFamily(
        "switchboard_replies_24h", "Business messages of the last 24 hours by status", labels=["status"]
    )
    counts = (
        Message.objects.filter(direction=Message.Direction.OUTBOUND, created_at__gte=since)
        .values("status")
        .annotate(n=Count("id"))
    )
    for row in counts:
        replies.add_metric([row["status"]], row["n"])
    yield replies
