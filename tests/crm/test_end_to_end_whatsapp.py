"""End to end from a WhatsApp contact, on PostgreSQL + Redis + a real Celery worker: a signed WhatsApp webhook
from a new customer becomes one HubSpot contact with the customer's E.164 phone (no duplicate when WhatsApp
delivers twice or the customer writes again while HubSpot's search lags), an order on that conversation one
deal associated with it, resolving the conversation one timeline note; and another CRM's webhook endpoint
receives the contact and conversation events, signed."""

from __future__ import annotations

import json

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from inbox import events
from inbox.models import Conversation, Message
from inbox.services.conversations import conversation_set_status
from integrations.crm import signing
from integrations.crm.models import CrmSyncItem
from integrations.crm.services import webhooks
from integrations.services.channels import channel_create
from tests.crm.conftest import make_shop
from tests.fakes.oauth import WebhookReceiver
from tests.integrations.conftest import KITS
from tests.processes import celery_worker, wait_until

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

CHANNEL_SECRET = "e2e-whatsapp-secret"
KIT = KITS["whatsapp"]


def post_webhook(channel_id: int, body: bytes) -> int:
    """What WhatsApp does: the raw JSON body, signed with the app secret, to the channel's endpoint."""
    headers = {
        f"HTTP_{name.upper().replace('-', '_')}": value for name, value in KIT.sign(body, CHANNEL_SECRET).items()
    }
    return (
        Client().post(f"/webhooks/whatsapp/{channel_id}/", body, content_type="application/json", **headers).status_code
    )


def test_a_new_whatsapp_customer_becomes_one_contact_with_a_deal_and_a_note(hubspot):
    hubspot.search_delay = 3600  # nothing Switchboard writes becomes searchable during the test
    receiver = WebhookReceiver().start()
    try:
        shop = make_shop()
        channel = channel_create(organization=shop.organization, kind="whatsapp", name="WhatsApp shop",
                                 account_id=KIT.account_id, app_secret=CHANNEL_SECRET, verify_token="v",
                                 access_token="wa-token")  # fmt: skip
        endpoint, secret = webhooks.endpoint_create(
            organization=shop.organization, user=shop.admin.user, url=f"{receiver.base_url}/crm",
            event_types=["conversation.opened", "message.received", "conversation.resolved"],
        )  # fmt: skip
        env = {"HUBSPOT_API_BASE": hubspot.base_url, "CRM_RETRY_BASE_SECONDS": "0.2",
               "OUTBOX_SWEEP_AFTER_SECONDS": "0"}  # fmt: skip
        with celery_worker(**env):
            first = KIT.inbound(external_id="wamid.e2e-crm-1", text="Hi, is the blue batik in stock?")
            assert post_webhook(channel.pk, first) == 200
            assert post_webhook(channel.pk, first) == 200  # WhatsApp delivers again
            wait_until(lambda: hubspot.contacts, timeout=30, message="the contact in HubSpot")
            second = KIT.inbound(external_id="wamid.e2e-crm-2", text="I'll take two")
            assert post_webhook(channel.pk, second) == 200
            wait_until(lambda: Message.objects.filter(conversation__channel=channel).count() == 2, timeout=30,
                       message="both messages stored")  # fmt: skip
            conversation = Conversation.objects.get(channel=channel)
            with transaction.atomic():
                events.publish("order.created", organization_id=shop.organization.pk, order={
                    "id": 9101, "number": "SB-9101", "status": "awaiting_payment", "currency": "IDR",
                    "total": "300000.00", "contact_id": conversation.contact_id, "conversation_id": conversation.pk,
                    "channel_id": channel.pk, "created_at": timezone.now().isoformat(), "paid_at": None,
                })  # fmt: skip
            wait_until(lambda: hubspot.deals, timeout=30, message="the deal in HubSpot")
            conversation_set_status(conversation=conversation, user=shop.admin.user, status="resolved")
            wait_until(lambda: hubspot.records["notes"], timeout=30, message="the timeline note in HubSpot")
            wait_until(lambda: not CrmSyncItem.objects.exclude(status="succeeded").exists(), timeout=30,
                       message="everything synced")  # fmt: skip
            wait_until(lambda: len(receiver.requests) >= 4, timeout=30, message="the other CRM's events")

        [contact] = hubspot.contacts
        assert contact.properties["phone"] == f"+{KIT.customer_id}"  # E.164 from the WhatsApp id
        [deal] = hubspot.deals
        assert deal.properties["amount"] == "300000.00" and deal.associations == [("contacts", contact.id, 3)]
        [note] = hubspot.records["notes"].values()
        assert ("contacts", contact.id, 202) in note.associations
        assert "WhatsApp" in note.properties["hs_note_body"]

        received = [json.loads(r.body) for r in receiver.requests]
        for request in receiver.requests:
            assert signing.verify(secret, request.body, request.headers["switchboard-signature"])
        assert sorted(body["event"] for body in received) == [
            "conversation.opened", "conversation.resolved", "message.received", "message.received",
        ]  # fmt: skip
        assert {body["data"]["contact"]["phone"] for body in received} == {f"+{KIT.customer_id}"}
        assert len({r.headers["switchboard-delivery"] for r in receiver.requests}) == 4  # each event once
    finally:
        receiver.stop()
