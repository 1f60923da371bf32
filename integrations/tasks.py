"""Celery entry points of the integrations app: thin, ids in, services called."""

from __future__ import annotations

import logging
import random
import time
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from inbox.models import Message
from integrations.models import InboundWebhook
from integrations.services import outbound, webhooks
from switchboard.observability import single_instance

logger = logging.getLogger(__name__)

SEND_MAX_RETRIES = 6


# No acks_late: on the Redis broker it adds polling delay, and a delivery lost with its worker is still a
# `received` row that the sweep re-enqueues.
@shared_task(name="integrations.process_inbound")
def process_inbound(webhook_id: int) -> str:
    return webhooks.webhook_process(webhook_id=webhook_id).status


@shared_task(name="integrations.process_inbound_batch")
def process_inbound_batch(webhook_ids: list[int]) -> list[str]:
    """Deliveries acknowledged together (see ``webhooks.webhook_enqueue_processing``), each in its own
    transaction, in order. If the worker dies midway, the rest are still ``received`` rows for the sweep."""
    return [webhooks.webhook_process(webhook_id=webhook_id).status for webhook_id in webhook_ids]


@shared_task(name="integrations.send_outbound", bind=True, max_retries=SEND_MAX_RETRIES)
def send_outbound(self, message_id: int) -> str:  # type: ignore[no-untyped-def]
    final_attempt = self.request.retries >= SEND_MAX_RETRIES
    outcome = outbound.outbound_send(message_id=message_id, final_attempt=final_attempt)
    while outcome.status == "throttled" and self.request.is_eager:
        # Embedded mode runs tasks in-process and ignores countdowns: wait here for the next window instead.
        time.sleep(outcome.retry_after or 0.1)
        outcome = outbound.outbound_send(message_id=message_id, final_attempt=final_attempt)
    if outcome.status == "throttled":
        # A queue, not an error: run again when the window opens, keeping the retry count (not an attempt).
        countdown = (outcome.retry_after or 1.0) + random.uniform(0.0, 0.25)
        send_outbound.apply_async((message_id,), countdown=countdown, retries=self.request.retries)
        return outcome.status
    if outcome.status == "retry":
        backoff = min(300.0, 2.0**self.request.retries) * random.uniform(0.5, 1.5)
        raise self.retry(countdown=max(backoff, outcome.retry_after or 0.0))
    return outcome.status


@shared_task(name="integrations.sweep_pending")
@single_instance("integrations.sweep_pending", ttl=300)
def sweep_pending() -> dict[str, int]:
    """Re-enqueue work a lost broker message left behind: received deliveries and queued replies."""
    cutoff = timezone.now() - timedelta(seconds=settings.OUTBOX_SWEEP_AFTER_SECONDS)
    webhook_ids = list(
        InboundWebhook.objects.filter(status=InboundWebhook.Status.RECEIVED, received_at__lt=cutoff).values_list(
            "id", flat=True
        )[:1000]
    )
    message_ids = list(
        Message.objects.filter(status=Message.Status.QUEUED, created_at__lt=cutoff).values_list("id", flat=True)[:1000]
    )
    for webhook_id in webhook_ids:
        process_inbound.delay(webhook_id)
    for message_id in message_ids:
        send_outbound.delay(message_id)
    return {"webhooks": len(webhook_ids), "messages": len(message_ids)}


@shared_task(name="integrations.sync_message_templates")
def sync_message_templates(channel_id: int) -> str:
    """Refresh one channel's templates from its provider account (the channel page's button)."""
    from inbox.models import Channel
    from integrations.services import templates

    channel = Channel.objects.select_related("credential").filter(pk=channel_id).first()
    if channel is None:
        return "missing"
    try:
        result = templates.templates_sync(channel=channel)
    except templates.TemplateSyncError as exc:
        logger.warning("template sync failed", extra={"channel_id": channel_id, "reason": str(exc)})
        return "failed"
    return f"{result.approved}/{result.total}"


@shared_task(name="integrations.sync_all_message_templates")
@single_instance("integrations.sync_all_message_templates", ttl=900)
def sync_all_message_templates() -> int:
    """Periodic: enqueue a sync for every active channel with templates (new approvals reach the picker)."""
    from integrations.services import templates

    ids = list(templates.channels_with_templates().values_list("id", flat=True))
    for channel_id in ids:
        sync_message_templates.delay(channel_id)
    return len(ids)
