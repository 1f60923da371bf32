"""Erasing a contact on request: no trace of their name, phone, email or words is left in any table.

The data goes in through the real paths (signed sandbox webhook, ingest, signals with an ad referral, an agent's
reply and note, an order); then every text, JSON and binary column of every model is scanned for it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.apps import apps
from django.db import models

from inbox.access.models import AuditLog
from inbox.commerce.services.orders import LineInput, OrderDetails, order_create
from inbox.lifecycle.models import ContactErasure
from inbox.lifecycle.services import TOMBSTONE, ErasureError, contact_erase
from inbox.models import Contact, Conversation, Message, Role
from inbox.services.contacts import contact_update
from inbox.services.messages import message_send_reply
from inbox.services.notes import note_add
from integrations.models import InboundWebhook
from integrations.sandbox.services import simulator_customer_writes
from integrations.services.webhooks import webhook_process
from signals.models import SignalEvent
from tests.factories import MembershipFactory
from tests.signals.conftest import make_shop

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.core]

NAME = "Zebulon Quixote"
PHONE = "+15550001234"
CUSTOMER_ID = "15550001234"  # as WhatsApp writes it
EMAIL = "zebulon.quixote@example.org"
TEXT = "Deliver to 42 Plum Lane, gate code 7781"
REPLY = "Thanks Zebulon, noted the Plum Lane address"
CLICK_ID = "E.C.P.zebulon-click-99"
PLANTED = (NAME, "Zebulon", PHONE, CUSTOMER_ID, EMAIL, TEXT, "Plum Lane", CLICK_ID)

OTHER_TEXT = "Another customer asks about the price of batik"


def _process_pending_webhooks() -> None:
    for webhook_id in InboundWebhook.objects.filter(status="received").values_list("pk", flat=True):
        webhook_process(webhook_id=webhook_id)


def _customer_writes(shop: Any, customer_id: str, name: str, text: str, referral: dict | None = None) -> None:
    simulator_customer_writes(
        channel=shop.channel, customer_id=customer_id, customer_name=name, text=text, referral=referral
    )
    _process_pending_webhooks()  # on services no worker runs here: process as the ingest task would


def plant_a_customer() -> tuple[Any, Contact, Any]:
    shop = make_shop(sandbox=True)
    agent = MembershipFactory(organization=shop.organization, role=Role.ADMIN).user
    _customer_writes(shop, CUSTOMER_ID, NAME, "Hi, I saw your ad", {"ad_id": "ad-1", "click_id": CLICK_ID})
    _customer_writes(shop, CUSTOMER_ID, NAME, TEXT)
    _customer_writes(shop, CUSTOMER_ID, NAME, "Can I do the payment by bank transfer?")
    _customer_writes(shop, "someone-else", "Other Person", OTHER_TEXT)
    conversation = Conversation.objects.get(identity__external_id=CUSTOMER_ID)
    contact = conversation.contact
    contact_update(user=agent, contact=contact, name=NAME, phone=PHONE, email=EMAIL)
    message_send_reply(conversation=conversation, user=agent, text=REPLY)
    note_add(user=agent, conversation=conversation, body=f"{NAME} wants delivery to Plum Lane")
    order_create(
        user=agent,
        conversation=conversation,
        currency="IDR",
        lines=[LineInput(name="Batik shirt", unit_price="150000")],
        details=OrderDetails(
            delivery="shipping", shipping_name=NAME, shipping_address="42 Plum Lane", shipping_phone=PHONE
        ),
    )
    return shop, Contact.objects.get(pk=contact.pk), agent


def _values(model: type[models.Model]) -> list[tuple[str, str]]:
    fields = [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField | models.JSONField | models.BinaryField)
    ]
    found = []
    for row in model._default_manager.values_list("pk", *[f.name for f in fields]).iterator():
        for field, value in zip(fields, row[1:], strict=True):
            if value is None:
                continue
            if isinstance(value, bytes | memoryview):
                text = bytes(value).decode("utf-8", "replace")
            elif isinstance(value, str):
                text = value
            else:
                text = json.dumps(value, ensure_ascii=False)
            found.append((f"{model._meta.label}.{field.name}#{row[0]}", text))
    return found


def traces_of(*needles: str) -> list[str]:
    """Every column of every table that still holds one of ``needles``."""
    hits = []
    for model in apps.get_models():
        for where, text in _values(model):
            hits.extend(f"{where}: {needle!r}" for needle in needles if needle in text)
    return hits


def test_erasure_leaves_no_trace_of_the_contact_in_any_table():
    shop, contact, admin = plant_a_customer()
    assert traces_of(*PLANTED), "the planted values must be there before (or this test proves nothing)"
    assert SignalEvent.objects.filter(ttclid=CLICK_ID).exists()
    orders_before = contact.orders.count()

    erasure = contact_erase(contact=contact, actor=admin, confirmation="ERASE")

    assert traces_of(*PLANTED) == []
    contact.refresh_from_db()
    assert (contact.name, contact.phone, contact.email) == ("", "", "")
    conversation = contact.conversations.get()
    assert set(conversation.messages.values_list("body", flat=True)) == {TOMBSTONE}
    assert contact.orders.count() == orders_before == 1  # kept, with an anonymous customer
    assert SignalEvent.objects.filter(conversation=conversation).exists()  # the history is kept, hashed only
    audit = AuditLog.objects.get(action="contact.erased")
    assert audit.target_id == str(contact.pk) and audit.actor == admin
    assert erasure.counts["messages"] == 4
    # The other customer is untouched.
    assert Message.objects.filter(body=OTHER_TEXT).exists()
    assert traces_of(OTHER_TEXT, "Other Person")


def test_erased_webhooks_cannot_be_replayed_or_redelivered():
    shop, contact, admin = plant_a_customer()
    contact_erase(contact=contact, actor=admin, confirmation="ERASE")
    from django.core.management import call_command

    call_command("replay_webhooks", "--include-received")
    assert traces_of(TEXT, NAME) == []
    assert not InboundWebhook.objects.filter(channel=shop.channel, status="failed").exists()


def test_erasure_needs_the_confirmation_and_happens_once():
    shop, contact, admin = plant_a_customer()
    with pytest.raises(ErasureError):
        contact_erase(contact=contact, actor=admin, confirmation="yes")
    assert traces_of(TEXT)  # nothing changed
    contact_erase(contact=contact, actor=admin, confirmation="ERASE")
    with pytest.raises(ErasureError):
        contact_erase(contact=contact, actor=admin, confirmation="ERASE")
    assert ContactErasure.objects.filter(contact_id=contact.pk).count() == 1


def test_only_admins_reach_the_erasure_page(client):
    shop, contact, admin = plant_a_customer()
    agent = MembershipFactory(organization=shop.organization, role=Role.AGENT).user
    client.force_login(agent)
    assert client.post(f"/settings/data/contacts/{contact.pk}/erase/", {"confirmation": "ERASE"}).status_code == 403
    assert traces_of(TEXT)

    client.force_login(admin)
    page = client.get(f"/settings/data/contacts/{contact.pk}/erase/")
    assert page.status_code == 200 and "not Switchboard" in page.content.decode()
    refused = client.post(f"/settings/data/contacts/{contact.pk}/erase/", {"confirmation": "erase it"})
    assert refused.status_code == 400 and traces_of(TEXT)
    done = client.post(f"/settings/data/contacts/{contact.pk}/erase/", {"confirmation": "ERASE"})
    assert done.status_code == 302 and traces_of(TEXT) == []
    assert client.get("/settings/data/contacts/999999/erase/").status_code == 404
