from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from inbox import events
from inbox.models import Contact, Conversation, Message
from inbox.services.messages import message_receive_inbound
from tests.factories import OrganizationFactory, make_channel

pytestmark = [pytest.mark.django_db, pytest.mark.core]

AT = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
def channel():
    return make_channel(OrganizationFactory())


@pytest.fixture
def published():
    seen: list[events.DomainEvent] = []
    handler = seen.append
    events.subscribe("message.*", handler, phase=events.IN_TRANSACTION)
    events.subscribe("conversation.*", handler, phase=events.IN_TRANSACTION)
    yield seen
    events.unsubscribe(handler)


def receive(channel, external_id="m1", customer_id="c1", text="Hello", **kwargs):
    return message_receive_inbound(
        channel=channel,
        customer_id=customer_id,
        external_id=external_id,
        sent_at=kwargs.pop("sent_at", AT),
        text=text,
        **kwargs,
    )


def test_first_message_creates_contact_conversation_and_message(channel, published):
    result = receive(channel, customer_name="Siti")

    assert result.created and result.conversation_created
    conversation = result.message.conversation
    assert conversation.contact.name == "Siti"
    assert conversation.unread_count == 1
    assert conversation.last_inbound_at == AT
    assert conversation.last_message_preview == "Hello"
    assert result.message.status == Message.Status.RECEIVED
    assert [e.name for e in published] == ["conversation.opened", "message.received"]
    json.dumps(published[1].payload)  # what reaches browsers and tasks is plain JSON


def test_the_same_delivery_twice_makes_one_message(channel, published):
    first = receive(channel)
    second = receive(channel)

    assert second.created is False
    assert second.message.pk == first.message.pk
    assert Message.objects.count() == 1
    assert Conversation.objects.get().unread_count == 1
    assert [e.name for e in published].count("message.received") == 1


def test_next_message_joins_the_open_conversation(channel):
    first = receive(channel, external_id="m1")
    second = receive(channel, external_id="m2", text="Are you there?", sent_at=AT + timedelta(minutes=1))

    assert second.message.conversation_id == first.message.conversation_id
    conversation = Conversation.objects.get()
    assert conversation.unread_count == 2
    assert conversation.last_inbound_at == AT + timedelta(minutes=1)
    assert Contact.objects.count() == 1


def test_a_resolved_conversation_is_history_and_a_new_message_opens_another(channel):
    first = receive(channel, external_id="m1")
    Conversation.objects.filter(pk=first.message.conversation_id).update(status="resolved")

    second = receive(channel, external_id="m2")

    assert second.conversation_created
    assert second.message.conversation.contact_id == first.message.conversation.contact_id
    assert Conversation.objects.filter(status="open").count() == 1


def test_a_snoozed_conversation_reopens_when_the_customer_writes(channel):
    first = receive(channel, external_id="m1")
    Conversation.objects.filter(pk=first.message.conversation_id).update(
        status="snoozed", snoozed_until=AT + timedelta(days=1)
    )
    receive(channel, external_id="m2")

    conversation = Conversation.objects.get()
    assert conversation.status == "open" and conversation.snoozed_until is None


def test_business_echo_is_stored_as_sent_without_unread(channel, published):
    receive(channel, external_id="m1")
    echo = receive(channel, external_id="m2", direction="outbound", text="Sent from the phone app")

    assert echo.message.direction == "outbound"
    assert echo.message.status == Message.Status.SENT
    assert echo.message.sender_type == Message.SenderType.PROVIDER_ECHO
    conversation = Conversation.objects.get()
    assert conversation.unread_count == 1
    assert conversation.outbound_since_inbound == 1
    assert published[-1].name == "message.sent"


def test_first_referral_is_the_attribution_and_is_never_overwritten(channel):
    receive(channel, external_id="m1", referral={"source": "ctwa", "ad_id": "ad-1"})
    receive(channel, external_id="m2", referral={"source": "ctwa", "ad_id": "ad-2"})

    assert Conversation.objects.get().referral["ad_id"] == "ad-1"


def test_a_message_without_ids_is_refused(channel):
    with pytest.raises(ValidationError):
        receive(channel, external_id="")
    assert Message.objects.count() == 0


def test_customers_on_different_channels_are_different_identities(channel):
    other = make_channel(channel.organization, name="Second sandbox")
    receive(channel, external_id="m1", customer_id="same-id")
    receive(other, external_id="m1", customer_id="same-id")

    assert Message.objects.count() == 2
    assert Conversation.objects.count() == 2
