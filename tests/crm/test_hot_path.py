"""The hot path: with no CRM and no webhook subscriber configured, the outbound subscribers of every inbound
message (CRM sync, CRM webhooks, authorized apps' webhooks) ask the database nothing; configuring one is seen
by the very next message."""

from __future__ import annotations

import pytest

from inbox import events
from integrations.connections import subscribers as app_subscribers
from integrations.connections.models import WebhookDelivery
from integrations.crm import subscribers as crm_subscribers
from integrations.crm.models import CrmSyncItem
from integrations.crm.services import webhooks
from integrations.crm.services.connection import hubspot_connect_private_app
from tests.crm.conftest import TOKEN, make_shop

pytestmark = [pytest.mark.core, pytest.mark.django_db]


def inbound(organization_id: int, conversation_id: int) -> events.DomainEvent:
    return events.DomainEvent(
        "message.received",
        organization_id,
        {"conversation": {"id": conversation_id}, "message": {"id": 1, "direction": "inbound", "body": "hi"}},
    )


def run_outbound_subscribers(event: events.DomainEvent) -> None:
    crm_subscribers.on_contact_activity(event)
    app_subscribers.queue_webhook_deliveries(event)


def test_nothing_configured_costs_no_query_and_a_change_is_seen_at_once(hubspot, django_assert_num_queries):
    shop = make_shop(connect=False)
    conversation = shop.receive("hello").message.conversation
    event = inbound(shop.organization.pk, conversation.pk)
    run_outbound_subscribers(event)  # the first message of the process asks once
    with django_assert_num_queries(0):
        run_outbound_subscribers(event)
        run_outbound_subscribers(event)

    webhooks.endpoint_create(organization=shop.organization, user=shop.admin.user,
                             url="https://crm.example.com/h", event_types=["message.received"])  # fmt: skip
    run_outbound_subscribers(event)
    assert WebhookDelivery.objects.filter(event="message.received").count() == 1

    hubspot_connect_private_app(organization=shop.organization, user=shop.admin.user, token=TOKEN)
    run_outbound_subscribers(event)
    assert CrmSyncItem.objects.filter(operation="contact.upsert").count() == 1


def test_switching_everything_off_is_seen_too(hubspot, django_assert_num_queries):
    shop = make_shop(connect=False)
    conversation = shop.receive("hello").message.conversation
    endpoint, _ = webhooks.endpoint_create(
        organization=shop.organization, user=shop.admin.user, url="https://crm.example.com/h",
        event_types=["message.received"],
    )  # fmt: skip
    event = inbound(shop.organization.pk, conversation.pk)
    run_outbound_subscribers(event)
    assert WebhookDelivery.objects.count() == 1
    webhooks.endpoint_update(endpoint=endpoint, user=shop.admin.user, is_active=False)
    run_outbound_subscribers(event)
    with django_assert_num_queries(0):
        run_outbound_subscribers(event)
    assert WebhookDelivery.objects.count() == 1
