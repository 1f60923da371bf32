"""Celery entry points of the integrations app: thin, ids in, services called."""

from __future__ import annotations

import random
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from inbox.models import Message
from integrations.models import InboundWebhook
from integrations.services import outbound, webhooks

SEND_MAX_RETRIES = 6


# No acks_late: on the Redis broker it adds polling delay, and a delivery lost with its worker is still a
# `received` row that the sweep re-enqueues.
@shared_task(name="integrations.process_inbound")
def process_inbound(webhook_id: int) -> str:
    return webhooks.webhook_process(webhook_id=webhook_id).status


@shared_task(name="integrations.send_outbound", bind=True, max_retries=SEND_MAX_RETRIES)
def send_outbound(self, message_id: int) -> str:  # type: ignore[no-untyped-def]
    outcome = outbound.outbound_send(message_id=message_id, final_attempt=self.request.retries >= SEND_MAX_RETRIES)
    if outcome.status == "retry":
        backoff = min(300.0, 2.0**self.request.retries) * random.uniform(0.5, 1.5)
        raise self.retry(countdown=max(backoff, outcome.retry_after or 0.0))
    return outcome.status


@shared_task(name="integrations.sweep_pending")
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
