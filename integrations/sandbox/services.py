"""The customer simulator: what a customer does on the sandbox "provider"."""

from __future__ import annotations

import uuid

from django.utils import timezone

from inbox.models import Channel
from integrations.channels.base import WebhookRequest
from integrations.models import SandboxMessage
from integrations.sandbox.adapter import SIGNATURE_HEADER, message_body, sign
from integrations.services import webhooks


def simulator_customer_writes(
    *, channel: Channel, customer_id: str, customer_name: str, text: str, referral: dict | None = None
) -> webhooks.WebhookAck:
    """The simulated customer sends a message: it is posted to Switchboard as a signed sandbox webhook.

    The delivery goes through the same verify/store/process path as any provider's.
    """
    external_id = f"sbx-in-{uuid.uuid4().hex}"
    SandboxMessage.objects.create(
        channel=channel, customer_id=customer_id, side=SandboxMessage.Side.CUSTOMER, external_id=external_id, text=text
    )
    event = {
        "type": "message",
        "id": external_id,
        "customer": {"id": customer_id, "name": customer_name},
        "text": text,
        "timestamp": timezone.now().timestamp(),
    }
    if referral:
        event["referral"] = referral
    body = message_body(account_id=channel.account_id, events=[event])
    secrets = channel.credential.secrets()
    request = WebhookRequest(
        method="POST",
        body=body,
        headers={SIGNATURE_HEADER.lower(): sign(body, secrets.app_secret), "content-type": "application/json"},
    )
    return webhooks.webhook_receive(provider="sandbox", channel_id=channel.pk, request=request)


def simulator_thread(*, channel: Channel, customer_id: str, after_id: int = 0) -> list[dict]:
    rows = SandboxMessage.objects.filter(channel=channel, customer_id=customer_id, id__gt=after_id).order_by("id")
    return [
        {"id": row.id, "side": row.side, "text": row.text, "created_at": row.created_at.isoformat()}
        for row in rows[:500]
    ]
