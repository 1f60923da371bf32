from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from inbox.models import Conversation, Message, Role
from inbox.services.messages import message_apply_status, message_send_reply, messages_mark_read_until
from integrations.models import SandboxMessage
from integrations.services.outbound import outbound_send
from tests.factories import MembershipFactory, OrganizationFactory, make_channel, make_conversation

pytestmark = [pytest.mark.django_db, pytest.mark.core]


@pytest.fixture
def conversation():
    return make_conversation(make_channel(OrganizationFactory()))


@pytest.fixture
def agent(conversation):
    membership = MembershipFactory(organization=conversation.organization, role=Role.AGENT)
    membership.channels.add(conversation.channel)
    return membership.user


def test_reply_is_queued_then_sent_through_the_channel(conversation, agent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        message = message_send_reply(conversation=conversation, user=agent, text="  We have it in M!  ")

    assert message.status == Message.Status.QUEUED
    assert message.body == "We have it in M!"
    assert callbacks, "sending is scheduled after commit"

    assert outbound_send(message_id=message.pk).status == "sent"

    message.refresh_from_db()
    assert message.status == Message.Status.SENT and message.external_id.startswith("sbx-out-")
    delivered = SandboxMessage.objects.get(external_id=message.external_id)
    assert delivered.text == "We have it in M!" and delivered.customer_id == "cust-1"


def test_sending_twice_sends_once(conversation, agent):
    message = message_send_reply(conversation=conversation, user=agent, text="Once")
    outbound_send(message_id=message.pk)
    assert outbound_send(message_id=message.pk).status == "skipped"
    assert SandboxMessage.objects.count() == 1


def test_empty_reply_is_refused(conversation, agent):
    with pytest.raises(ValidationError, match="empty"):
        message_send_reply(conversation=conversation, user=agent, text="   ")
    assert Message.objects.count() == 0


def test_agent_without_channel_access_cannot_reply(conversation):
    outsider = MembershipFactory(organization=conversation.organization, role=Role.AGENT).user
    with pytest.raises(PermissionDenied):
        message_send_reply(conversation=conversation, user=outsider, text="hi")


def test_member_of_another_organization_cannot_reply(conversation):
    stranger = MembershipFactory(role=Role.OWNER).user
    with pytest.raises(PermissionDenied):
        message_send_reply(conversation=conversation, user=stranger, text="hi")


def test_statuses_only_move_forward(conversation, agent):
    message = message_send_reply(conversation=conversation, user=agent, text="Hello")
    outbound_send(message_id=message.pk)
    message.refresh_from_db()
    now = timezone.now()
    channel = conversation.channel

    message_apply_status(channel=channel, external_id=message.external_id, status="read", at=now)
    message_apply_status(channel=channel, external_id=message.external_id, status="delivered", at=now)
    message_apply_status(channel=channel, external_id=message.external_id, status="failed", at=now, error="x")

    message.refresh_from_db()
    assert message.status == Message.Status.READ
    assert message.read_at == now and message.delivered_at == now


def test_a_failed_receipt_records_the_reason(conversation, agent):
    message = message_send_reply(conversation=conversation, user=agent, text="Hello")
    outbound_send(message_id=message.pk)
    message.refresh_from_db()
    message_apply_status(
        channel=conversation.channel,
        external_id=message.external_id,
        status="failed",
        at=timezone.now(),
        error="recipient unavailable",
    )
    message.refresh_from_db()
    assert message.status == "failed" and message.error_reason == "recipient unavailable"


def test_receipt_for_an_unknown_message_is_reported(conversation):
    assert (
        message_apply_status(channel=conversation.channel, external_id="nope", status="read", at=timezone.now()) is None
    )


def test_read_watermark_marks_earlier_messages_read(conversation, agent):
    first = message_send_reply(conversation=conversation, user=agent, text="one")
    outbound_send(message_id=first.pk)
    cutoff = timezone.now()
    later = message_send_reply(conversation=conversation, user=agent, text="two")
    outbound_send(message_id=later.pk)
    Message.objects.filter(pk=later.pk).update(sent_at=cutoff + timedelta(seconds=5))

    assert messages_mark_read_until(channel=conversation.channel, customer_id="cust-1", up_to=cutoff) == 1
    assert Message.objects.get(pk=first.pk).status == "read"
    assert Message.objects.get(pk=later.pk).status == "sent"


def test_reply_resets_unread_and_counts_towards_quota(conversation, agent):
    Conversation.objects.filter(pk=conversation.pk).update(unread_count=3)
    message_send_reply(conversation=conversation, user=agent, text="hi")
    conversation.refresh_from_db()
    assert conversation.unread_count == 0 and conversation.outbound_since_inbound == 1


def test_an_echo_that_overtakes_our_send_claims_the_queued_message(conversation, agent):
    from inbox.services.messages import message_receive_inbound

    queued = message_send_reply(conversation=conversation, user=agent, text="On its way!")
    echo = message_receive_inbound(channel=conversation.channel, customer_id="cust-1", external_id="prov-77",
                                   sent_at=timezone.now(), direction="outbound", text="On its way!")

    assert echo.created is False and echo.message.pk == queued.pk
    assert Message.objects.filter(direction="outbound").count() == 1
    assert Message.objects.get(pk=queued.pk).external_id == "prov-77"


def test_automated_messages_are_marked_and_leave_unread_alone(conversation):
    from inbox.services.messages import message_send_automated

    Conversation.objects.filter(pk=conversation.pk).update(unread_count=2)
    message = message_send_automated(conversation=conversation, text="Thanks! An agent will answer soon.",
                                     metadata={"automation": {"rule_id": 1, "version": 3}})
    conversation.refresh_from_db()
    assert message.sender_type == "automation" and message.sender_user is None
    assert message.metadata["automation"]["version"] == 3
    assert conversation.unread_count == 2
