"""End to end on PostgreSQL + Redis + a real Celery worker: customer messages and an order reach the fake HubSpot
as exactly one contact with one associated deal, although HubSpot throttles once and its search lags."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import timezone

from inbox import events
from inbox.models import Conversation
from integrations.crm.models import CrmSyncItem
from integrations.sandbox.services import simulator_customer_writes
from tests.crm.conftest import make_shop
from tests.processes import celery_worker, wait_until

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_a_new_customer_and_their_order_make_one_contact_and_one_associated_deal(hubspot):
    hubspot.search_delay = 3600  # nothing Switchboard writes becomes searchable during the test
    shop = make_shop()
    env = {"HUBSPOT_API_BASE": hubspot.base_url, "CRM_RETRY_BASE_SECONDS": "0.2", "OUTBOX_SWEEP_AFTER_SECONDS": "0"}
    hubspot.fail_next(
        429, headers={"Retry-After": "0.5"}, body={"status": "error", "policyName": "TEN_SECONDLY_ROLLING"}
    )
    with celery_worker(**env):
        for text in ("Hi, is the blue bag in stock?", "I'd like to order it", "Can you send it to Bandung?"):
            simulator_customer_writes(channel=shop.channel, customer_id="6281234567890", customer_name="Siti Rahma",
                                      text=text)  # fmt: skip
        wait_until(lambda: hubspot.contacts, timeout=30, message="the contact in HubSpot")
        conversation = Conversation.objects.get(organization=shop.organization)
        with transaction.atomic():
            events.publish("order.created", organization_id=shop.organization.pk, order={
                "id": 9001, "number": "SB-9001", "status": "awaiting_payment", "currency": "IDR", "total": "450000.00",
                "contact_id": conversation.contact_id, "conversation_id": conversation.pk,
                "channel_id": conversation.channel_id, "created_at": timezone.now().isoformat(), "paid_at": None,
            })  # fmt: skip
        wait_until(lambda: hubspot.deals, timeout=30, message="the deal in HubSpot")
        wait_until(
            lambda: not CrmSyncItem.objects.exclude(status="succeeded").exists(), timeout=30, message="all synced"
        )

    assert len(hubspot.contacts) == 1
    contact = hubspot.contacts[0]
    assert contact.properties["firstname"] == "Siti" and contact.properties["lastname"] == "Rahma"
    [deal] = hubspot.deals
    assert deal.properties["amount"] == "450000.00" and deal.associations == [("contacts", contact.id, 3)]
    # The first create was throttled (scripted 429) and retried after Retry-After; nothing was created twice.
    assert len(hubspot.requests_to("/batch/create")) == 2
