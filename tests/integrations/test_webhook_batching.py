"""Deliveries acknowledged together share one processing task (issue 2): real Redis broker, real worker."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from django.db import transaction

from inbox.models import Message
from integrations.channels.base import WebhookRequest
from integrations.models import InboundWebhook
from integrations.sandbox.adapter import sign
from integrations.services import webhooks
from tests.factories import OrganizationFactory, make_channel
from tests.integrations.factories import sandbox_delivery
from tests.processes import celery_worker, wait_until

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

DELIVERIES = 40


def test_a_burst_of_deliveries_is_published_in_fewer_tasks_and_each_processed_once():
    channel = make_channel(OrganizationFactory())
    secret = channel.credential.secrets().app_secret
    with celery_worker("ingest") as worker:
        # Stored in one transaction, so their enqueues run back to back at commit, a burst that does not depend
        # on how fast the database stores each one against how fast the broker takes a publish.
        with transaction.atomic():
            for n in range(DELIVERIES):
                body = sandbox_delivery(channel, f"burst-{n}")
                request = WebhookRequest("POST", body, {"x-sandbox-signature": sign(body, secret)})
                ack = webhooks.webhook_receive(provider="sandbox", channel_id=channel.pk, request=request)
                assert ack.status == 200
        webhooks._PROCESSING.flush()
        wait_until(
            lambda: not InboundWebhook.objects.exclude(status="processed").exists(), timeout=60,
            message="every delivery processed",
        )  # fmt: skip
        log = worker.log_path.read_text(errors="replace")

    stored = Counter(Message.objects.filter(channel=channel).values_list("external_id", flat=True))
    assert stored == {f"burst-{n}": 1 for n in range(DELIVERIES)}
    singles = len(re.findall(r"Task integrations\.process_inbound\[[^]]+\] received", log))
    batches = len(re.findall(r"Task integrations\.process_inbound_batch\[[^]]+\] received", log))
    assert batches >= 1, log
    assert singles + batches < DELIVERIES
