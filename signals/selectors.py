"""Reads of the signals app: the "Sent to TikTok" log, dead letters, and the attribution dashboard."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate

from inbox.models import Conversation
from signals.models import ConversationFlag, SignalDelivery, SignalEvent


def deliveries(*, organization_id: int, outcome: str = "") -> QuerySet[SignalDelivery]:
    """Every request sent for the organization's advertiser accounts, newest first (optionally by outcome)."""
    rows = SignalDelivery.objects.filter(advertiser_account__organization_id=organization_id).select_related(
        "advertiser_account"
    )
    if outcome:
        rows = rows.filter(outcome=outcome)
    return rows.order_by("-created_at", "-id")


def dead_letters(*, organization_id: int) -> QuerySet[SignalEvent]:
    return (
        SignalEvent.objects.filter(organization_id=organization_id, status=SignalEvent.Status.DEAD)
        .select_related("advertiser_account")
        .order_by("-created_at", "-id")
    )


def outbox_counts(*, organization_id: int) -> dict[str, int]:
    counts = dict(
        SignalEvent.objects.filter(organization_id=organization_id)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return {status: counts.get(status, 0) for status in SignalEvent.Status.values}


@dataclass
class CampaignRow:
    campaign_id: str
    ad_id: str
    conversations: int = 0
    flags: int = 0
    orders: int = 0
    revenue: float = 0.0
    currencies: set[str] = field(default_factory=set)


@dataclass
class Dashboard:
    rows: list[CampaignRow]
    ad_driven: int
    organic: int
    flags_total: int
    days: list[str]
    series: dict[str, list[int]]
    flag_counts: list[tuple[str, int]]


def dashboard(*, organization_id: int, start: date, end: date, channel_id: int | None = None) -> Dashboard:
    """Per campaign and ad: conversations started, keyword flags raised, orders paid and revenue (from the
    ``order_paid`` outbox rows), for conversations created in ``[start, end]``; plus the daily series of
    ad-driven and organic conversations and of flags, for the chart."""
    conversations = Conversation.objects.filter(
        organization_id=organization_id, created_at__date__gte=start, created_at__date__lte=end
    )
    if channel_id:
        conversations = conversations.filter(channel_id=channel_id)
    by_campaign: dict[tuple[str, str], CampaignRow] = {}
    for row in (
        conversations.exclude(attributed_at__isnull=True)
        .values("campaign_id", "ad_id")
        .annotate(n=Count("id", distinct=True), flags=Count("signal_flags"))
        .order_by("campaign_id", "ad_id")
    ):
        key = (row["campaign_id"], row["ad_id"])
        by_campaign[key] = CampaignRow(row["campaign_id"], row["ad_id"], row["n"], row["flags"])
    orders = SignalEvent.objects.filter(
        trigger="order_paid", conversation__in=conversations.exclude(attributed_at__isnull=True)
    ).values("event_id", "conversation__campaign_id", "conversation__ad_id", "properties")
    seen: set[str] = set()
    for order in orders:
        if order["event_id"] in seen:
            continue
        seen.add(order["event_id"])
        key = (order["conversation__campaign_id"], order["conversation__ad_id"])
        row = by_campaign.setdefault(key, CampaignRow(*key))
        row.orders += 1
        value = order["properties"].get("value")
        if isinstance(value, int | float):
            row.revenue += value
        if order["properties"].get("currency"):
            row.currencies.add(order["properties"]["currency"])

    split = conversations.aggregate(
        ad=Count("id", filter=Q(attributed_at__isnull=False)), organic=Count("id", filter=Q(attributed_at__isnull=True))
    )
    flags = ConversationFlag.objects.filter(conversation__in=conversations)
    days = [(start + timedelta(days=n)) for n in range((end - start).days + 1)][-366:]
    series: dict[str, dict[date, int]] = defaultdict(dict)
    for row in (
        conversations.annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(
            ad=Count("id", filter=Q(attributed_at__isnull=False)),
            organic=Count("id", filter=Q(attributed_at__isnull=True)),
        )
    ):
        series["ad_driven"][row["day"]] = row["ad"]
        series["organic"][row["day"]] = row["organic"]
    for row in flags.annotate(day=TruncDate("raised_at")).values("day").annotate(n=Count("id")):
        series["flags"][row["day"]] = row["n"]
    flag_counts = list(flags.values_list("flag").annotate(n=Count("id")).order_by("-n", "flag")[:20])
    return Dashboard(
        rows=sorted(by_campaign.values(), key=lambda r: (-r.conversations, r.campaign_id, r.ad_id)),
        ad_driven=split["ad"],
        organic=split["organic"],
        flags_total=flags.count(),
        days=[d.isoformat() for d in days],
        series={
            name: [values.get(d, 0) for d in days]
            for name, values in (
                ("ad_driven", series["ad_driven"]),
                ("organic", series["organic"]),
                ("flags", series["flags"]),
            )
        },
        flag_counts=flag_counts,
    )


def chart_data(board: Dashboard) -> dict[str, Any]:
    """What static/signals-dashboard.js draws (passed through ``json_script``)."""
    return {"days": board.days, "series": board.series}
