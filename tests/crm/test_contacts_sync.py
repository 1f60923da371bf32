"""Contacts reach HubSpot once: created, then updated through their link; matched to records HubSpot already has;
never duplicated while HubSpot's search lags behind (eventual consistency)."""

from __future__ import annotations

import pytest

from inbox.models import Channel, Contact, ContactIdentity
from integrations.crm.models import CrmLink, CrmSyncItem
from integrations.crm.services.sync import crm_sync_run
from tests.crm.conftest import make_shop
from tests.factories import make_channel

pytestmark = [pytest.mark.core, pytest.mark.django_db]


def run(shop) -> None:
    crm_sync_run(organization_id=shop.organization.pk, time_budget=10)


def test_a_new_customer_becomes_one_hubspot_contact_and_later_messages_send_nothing(shop, hubspot):
    shop.receive("Hi!", name="Ana Lima")
    assert CrmSyncItem.objects.filter(operation="contact.upsert", status="pending").count() == 1
    run(shop)

    assert len(hubspot.contacts) == 1
    contact = hubspot.contacts[0]
    assert contact.properties["firstname"] == "Ana" and contact.properties["lastname"] == "Lima"
    assert contact.properties["lifecyclestage"] == "lead"
    assert CrmLink.objects.get(object_type="contact").hubspot_id == contact.id
    item = CrmSyncItem.objects.get()
    assert item.status == "succeeded" and item.hubspot_id == contact.id and item.request["action"] == "create"

    shop.receive("Are you there?")  # nothing about the contact changed
    assert CrmSyncItem.objects.count() == 1
    assert len(hubspot.requests_to("/batch/create")) == 1


def test_a_changed_contact_is_updated_through_its_link_without_searching(shop, hubspot):
    shop.receive("Hi!", name="Ana Lima")
    run(shop)
    hubspot.search_delay = 3600  # HubSpot's index would not find it now anyway
    Contact.objects.update(email="Ana@Example.com")
    shop.receive("My email is ana@example.com")
    run(shop)

    assert len(hubspot.contacts) == 1
    assert hubspot.contacts[0].properties["email"] == "ana@example.com"
    assert len(hubspot.requests_to("/batch/update")) == 1
    assert hubspot.requests_to("/contacts/search") == []


def test_same_email_on_two_channels_makes_one_contact_although_search_lags(shop, hubspot):
    hubspot.search_delay = 3600  # nothing written during this test is searchable yet
    first = shop.receive("Hi from WhatsApp", customer="c-1", name="Ana").message.conversation.contact
    Contact.objects.filter(pk=first.pk).update(email="ana@example.com")
    shop.receive("again", customer="c-1")
    run(shop)
    messenger = make_channel(shop.organization, kind="sandbox", name="Second sandbox")
    second = Contact.objects.create(organization=shop.organization, name="Ana L.", email="ANA@example.com")
    ContactIdentity.objects.create(contact=second, channel=messenger, external_id="psid-9")
    from integrations.crm.services.outbox import crm_contact_changed

    crm_contact_changed(organization_id=shop.organization.pk, contact_id=second.pk, event="test")
    run(shop)

    assert len(hubspot.contacts) == 1  # upsert keyed by email resolved it, search did not
    links = CrmLink.objects.filter(object_type="contact")
    assert {link.hubspot_id for link in links} == {hubspot.contacts[0].id} and links.count() == 2
    assert len(hubspot.requests_to("/contacts/search")) == 2  # both were searched (unlinked), both missed


def test_a_contact_hubspot_already_had_is_matched_by_phone_not_created(shop, hubspot):
    existing = hubspot.add_contact({"phone": "+6281234567890", "firstname": "Siti", "lifecyclestage": "customer"})
    whatsapp = Channel.objects.create(organization=shop.organization, kind="whatsapp", name="WA", account_id="pn-1")
    contact = Contact.objects.create(organization=shop.organization, name="Siti Rahma")
    ContactIdentity.objects.create(contact=contact, channel=whatsapp, external_id="6281234567890")
    from integrations.crm.services.outbox import crm_contact_changed

    crm_contact_changed(organization_id=shop.organization.pk, contact_id=contact.pk, event="test")
    run(shop)

    assert [c.id for c in hubspot.contacts] == [existing.id]
    assert existing.properties["lastname"] == "Rahma"
    assert existing.properties["lifecyclestage"] == "customer"  # a matched contact keeps its stage
    item = CrmSyncItem.objects.get()
    assert item.request["matched_by"] == "search" and item.hubspot_id == existing.id


def test_contacts_are_sent_in_batches_of_at_most_100(shop, hubspot):
    from integrations.crm.services.outbox import crm_contact_changed

    contacts = Contact.objects.bulk_create(
        Contact(organization=shop.organization, name=f"Buyer {i}", email=f"b{i}@example.com") for i in range(130)
    )
    for contact in contacts:
        crm_contact_changed(organization_id=shop.organization.pk, contact_id=contact.pk, event="import")
    run(shop)

    assert len(hubspot.contacts) == 130
    sizes = [len(r.json()["inputs"]) for r in hubspot.requests_to("/batch/upsert")]
    assert sizes == [100, 30]
    assert len(hubspot.requests_to("/contacts/search")) == 2  # one search per batch, not one per contact
    assert CrmSyncItem.objects.filter(status="succeeded").count() == 130


def test_nothing_is_queued_for_an_organization_without_hubspot(db, hubspot):
    shop = make_shop(connect=False)
    shop.receive("Hi")
    assert CrmSyncItem.objects.count() == 0
