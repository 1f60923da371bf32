"""Reads of the integrations app for admin pages, scoped through ``inbox.permissions``.

Deliveries to the app-level endpoint (``/webhooks/<provider>/``) can carry entries for several organizations'
channels. An organization's admins see such a delivery only once it was routed to one of their channels
(``InboundWebhook.routed_channels``), and only the notes about their own accounts. Deliveries nobody could route
(unknown accounts, unparseable bodies, app-level signature rejections) belong to no organization: only
superusers (the operators of the Switchboard installation) see them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from inbox import permissions
from inbox.models import Channel
from integrations.models import InboundWebhook, WebhookRejection


def channel_list_with_activity(*, user: Any) -> QuerySet[Channel]:
    """The user's channels with ``last_webhook_at`` (either endpoint) and ``rejected_count`` (all time)."""
    direct = (
        InboundWebhook.objects.filter(channel=OuterRef("pk"))
        .values("channel")
        .annotate(last=Max("received_at"))
        .values("last")
    )
    routed = (
        InboundWebhook.routed_channels.through.objects.filter(channel=OuterRef("pk"))
        .values("channel")
        .annotate(last=Max("inboundwebhook__received_at"))
        .values("last")
    )
    rejected = (
        WebhookRejection.objects.filter(channel=OuterRef("pk")).values("channel").annotate(n=Sum("count")).values("n")
    )
    return (
        permissions.visible_channels(user)
        .annotate(
            last_direct_at=Subquery(direct),
            last_routed_at=Subquery(routed),
            rejected_count=Coalesce(Subquery(rejected), 0),
        )
        .order_by("kind", "name", "id")
    )


def last_webhook_at(channel: Channel) -> Any:
    """The later of the two annotations (in Python: SQL ``GREATEST`` treats NULL differently per database)."""
    times = [t for t in (getattr(channel, "last_direct_at", None), getattr(channel, "last_routed_at", None)) if t]
    return max(times) if times else None


def _org_channel_ids(user: Any) -> list[int]:
    if not permissions.can_manage_channels(user):
        return []
    return permissions.visible_channel_ids(user)


def delivery_list(*, user: Any, failed_only: bool = False, provider: str = "") -> QuerySet[InboundWebhook]:
    """Stored deliveries an admin may see, newest first (see the module docstring for app-level ones)."""
    if getattr(user, "is_superuser", False):
        webhooks = InboundWebhook.objects.all()
    else:
        ids = _org_channel_ids(user)
        scoped = InboundWebhook.objects.filter(Q(channel_id__in=ids) | Q(channel=None, routed_channels__in=ids))
        webhooks = InboundWebhook.objects.filter(pk__in=scoped.values("pk"))
    if failed_only:
        webhooks = webhooks.filter(status=InboundWebhook.Status.FAILED)
    if provider:
        webhooks = webhooks.filter(provider=provider)
    return webhooks.select_related("channel").defer("body").order_by("-received_at", "-id")


def delivery_get(*, user: Any, webhook_id: int) -> InboundWebhook:
    """One delivery the user may see; ``InboundWebhook.DoesNotExist`` otherwise."""
    return delivery_list(user=user).get(pk=webhook_id)


def delivery_notes(*, user: Any, webhook: InboundWebhook) -> tuple[list[dict[str, Any]], int]:
    """The notes the user may read on a delivery, and how many were hidden (other organizations' accounts)."""
    notes = list(webhook.notes or [])
    if getattr(user, "is_superuser", False) or webhook.channel_id is not None:
        return notes, 0
    own_accounts = set(
        permissions.visible_channels(user).filter(kind=webhook.provider).values_list("account_id", flat=True)
    )
    visible = [n for n in notes if (n.get("account_id") or n.get("unknown_account")) in own_accounts]
    return visible, len(notes) - len(visible)


def rejection_counts(*, user: Any, days: int = 14) -> QuerySet[WebhookRejection]:
    """Failed signature and handshake checks per provider, channel, reason and day, over the last ``days``."""
    since = timezone.now().date() - timedelta(days=days - 1)
    rejections = WebhookRejection.objects.filter(day__gte=since)
    if not getattr(user, "is_superuser", False):
        rejections = rejections.filter(channel_id__in=_org_channel_ids(user))
    return rejections.select_related("channel").order_by("-day", "provider", "channel_id", "reason")

