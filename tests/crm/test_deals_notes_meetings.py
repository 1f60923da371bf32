"""Orders become deals (stage from the order status, associated with the contact), reservations meetings, and a
resolved conversation a timeline note; failures land in the sync log and can be retried."""

from __future__ import annotations

import time

import pytest
from django.db import transaction
from django.utils import timezone

from inbox import events
from inbox.models import Contact, Conversation
from integrations.crm.models import CrmLink, CrmSyncItem
from integrations.crm.services.connection import hubspot_settings_update
from integrations.crm.services.items import sync_item_retry
from integrations.crm.services.sync import crm_sync_run
from tests.crm.conftest import make_shop
from tests.factories import MembershipFactory

pytestmark = [pytest.mark.core, pytest.mark.django_db]


def run(shop) -> None:
    crm_sync_run(organization_id=shop.organization.pk, time_budget=10)


def order(conversation: Conversation, *, status: str, order_id: int = 501, paid: bool = False) -> dict:
    return {
        "id": order_id, "number": f"SB-{order_id}", "status": status, "currency": "idr", "total": "250000.00",
        "contact_id": conversation.contact_id, "conversation_id": conversation.pk,
        "channel_id": conversation.channel_id,
        "created_at": timezone.now().isoformat(), "paid_at": timezone.now().isoformat() if paid else None,
    }  # fmt: skip


def publish(name: str, shop, **payload) -> None:
    with transaction.atomic():
        events.publish(name, organization_id=shop.organization.pk, **payload)


def test_an_order_creates_a_deal_associated_with_the_contact_and_payment_moves_its_stage(shop, hubspot):
    conversation = shop.receive("I'd like the blue one").message.conversation
    publish("order.created", shop, order=order(conversation, status="awaiting_payment"))
    run(shop)

    assert len(hubspot.contacts) == 1 and len(hubspot.deals) == 1
    deal = hubspot.deals[0]
    assert deal.properties["dealname"] == "Order SB-501"
    assert deal.properties["amount"] == "250000.00" and deal.properties["deal_currency_code"] == "IDR"
    assert deal.properties["dealstage"] == "contractsent" and deal.properties["pipeline"] == "default"
    assert deal.associations == [("contacts", hubspot.contacts[0].id, 3)]

    publish("order.paid", shop, order=order(conversation, status="paid", paid=True))
    run(shop)
    assert len(hubspot.deals) == 1  # updated through its link, not created again
    assert deal.properties["dealstage"] == "closedwon" and "closedate" in deal.properties
    assert hubspot.contacts[0].properties["lifecyclestage"] == "customer"
    assert CrmSyncItem.objects.filter(operation="deal.upsert", status="succeeded").count() == 2


def test_deal_stages_follow_the_admins_mapping(shop, hubspot):
    hubspot_settings_update(
        organization=shop.organization, user=shop.admin.user, field_mapping=shop.connection.field_mapping,
        lifecycle_mapping={}, deal_stage_mapping={"awaiting_payment": "12345678", "paid": "closedwon"},
        deal_pipeline="55555", phone_id_property="", include_transcript=False,
    )  # fmt: skip
    conversation = shop.receive("hello").message.conversation
    publish("order.created", shop, order=order(conversation, status="awaiting_payment"))
    run(shop)
    assert hubspot.deals[0].properties["dealstage"] == "12345678"
    assert hubspot.deals[0].properties["pipeline"] == "55555"
    assert "lifecyclestage" not in hubspot.contacts[0].properties  # lifecycle mapping left blank


def test_an_order_of_a_contact_never_synced_sends_the_contact_first(db, hubspot):
    shop = make_shop(connect=False)
    conversation = shop.receive("before HubSpot was connected").message.conversation
    from integrations.crm.services.connection import hubspot_connect_private_app
    from tests.crm.conftest import TOKEN

    hubspot_connect_private_app(organization=shop.organization, user=shop.admin.user, token=TOKEN)
    publish("order.created", shop, order=order(conversation, status="draft"))
    run(shop)
    assert len(hubspot.contacts) == 1
    assert hubspot.deals[0].associations == [("contacts", hubspot.contacts[0].id, 3)]


def test_a_refused_deal_is_logged_with_hubspots_reason_and_the_retry_button_sends_it(shop, hubspot):
    conversation = shop.receive("hi").message.conversation
    run(shop)
    publish("order.created", shop, order=order(conversation, status="draft"))
    hubspot.fail_next(
        400, body={"status": "error", "message": "Property values were not valid", "category": "VALIDATION_ERROR"}
    )
    run(shop)
    item = CrmSyncItem.objects.get(operation="deal.upsert")
    assert item.status == "dead" and item.http_status == 400
    assert "Property values were not valid" in item.error
    assert item.request["properties"]["dealname"] == "Order SB-501"  # what was sent is in the log
    assert hubspot.deals == []

    agent = MembershipFactory(organization=shop.organization)
    with pytest.raises(Exception, match="owners and admins"):
        sync_item_retry(item_id=item.pk, user=agent.user)
    sync_item_retry(item_id=item.pk, user=shop.admin.user)
    run(shop)
    item.refresh_from_db()
    assert item.status == "succeeded" and len(hubspot.deals) == 1


def test_hubspot_down_is_retried_with_backoff_until_it_answers(shop, hubspot, settings):
    settings.CRM_RETRY_BASE_SECONDS = 2.0
    shop.receive("hi")
    hubspot.fail_next(503, times=4)  # every in-call retry of this run fails
    run(shop)
    item = CrmSyncItem.objects.get()
    assert item.status == "retrying" and item.attempts == 1 and item.http_status == 503
    assert item.next_attempt_at > timezone.now()
    run(shop)  # not due yet: nothing sent
    assert len(hubspot.requests) == 5  # 1 token check + 4 failed attempts
    time.sleep(2.6)
    run(shop)
    item.refresh_from_db()
    assert item.status == "succeeded" and len(hubspot.contacts) == 1


def _resolve(shop, conversation: Conversation) -> None:
    from inbox.selectors import conversation_as_dict

    with transaction.atomic():
        Conversation.objects.filter(pk=conversation.pk).update(status="resolved", assignee=shop.admin.user)
        conversation.refresh_from_db()
        events.publish("conversation.updated", organization_id=shop.organization.pk,
                       conversation=conversation_as_dict(conversation))  # fmt: skip


def test_a_resolved_conversation_adds_one_note_without_the_transcript_by_default(shop, hubspot):
    conversation = shop.receive("my card number is secret").message.conversation
    _resolve(shop, conversation)
    _resolve(shop, conversation)  # a second update while resolved adds nothing
    run(shop)
    notes = list(hubspot.records["notes"].values())
    assert len(notes) == 1
    body = notes[0].properties["hs_note_body"]
    assert "Sandbox" in body and shop.admin.user.username in body and f"/inbox/c/{conversation.pk}/" in body
    assert "secret" not in body
    assert notes[0].associations == [("contacts", hubspot.contacts[0].id, 202)]


def test_the_transcript_is_in_the_note_when_the_admin_turned_it_on(shop, hubspot):
    shop.connection.include_transcript = True
    shop.connection.save()
    conversation = shop.receive("Do you ship to Bandung?").message.conversation
    _resolve(shop, conversation)
    run(shop)
    assert "Do you ship to Bandung?" in next(iter(hubspot.records["notes"].values())).properties["hs_note_body"]


def test_a_confirmed_reservation_becomes_a_meeting(shop, hubspot):
    conversation = shop.receive("table for two").message.conversation
    starts = timezone.now()
    publish("reservation.confirmed", shop, reservation={
        "id": 77, "resource_name": "Table 4", "status": "confirmed", "starts_at": starts.isoformat(),
        "ends_at": (starts + timezone.timedelta(hours=2)).isoformat(), "contact_id": conversation.contact_id,
    })  # fmt: skip
    run(shop)
    meeting = next(iter(hubspot.records["meetings"].values()))
    assert meeting.properties["hs_meeting_title"].startswith("Table 4")
    assert meeting.properties["hs_meeting_start_time"] == str(int(starts.timestamp() * 1000))
    assert meeting.associations == [("contacts", hubspot.contacts[0].id, 200)]
    assert CrmLink.objects.filter(object_type="meeting", local_id="77").exists()


def test_disconnecting_skips_what_was_waiting(shop, hubspot):
    from integrations.crm.services.connection import hubspot_disconnect

    shop.receive("hi")
    hubspot_disconnect(organization=shop.organization, user=shop.admin.user)
    assert CrmSyncItem.objects.get().status == "skipped"
    Contact.objects.update(email="x@example.com")
    shop.receive("again")
    assert CrmSyncItem.objects.count() == 1
