from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from inbox.channel_rules import ChannelRules, check_can_send, composer_state, register, rules_for
from tests.factories import OrganizationFactory, make_channel, make_conversation

pytestmark = [pytest.mark.django_db, pytest.mark.core]


@pytest.fixture
def windowed_kind():
    previous = rules_for("sandbox")
    register(
        "sandbox",
        ChannelRules(reply_window=timedelta(hours=24), max_business_messages_before_reply=2, max_text_length=10),
    )
    yield
    register("sandbox", previous)


def test_sandbox_has_no_window():
    conversation = make_conversation(make_channel(OrganizationFactory()), last_inbound_at=None)
    assert composer_state(conversation).can_send


def test_closed_window_refuses_with_the_reason(windowed_kind):
    conversation = make_conversation(
        make_channel(OrganizationFactory()), last_inbound_at=timezone.now() - timedelta(hours=25)
    )
    state = composer_state(conversation)
    assert not state.can_send and "24-hour reply window has closed" in state.reason
    with pytest.raises(ValidationError, match="window"):
        check_can_send(conversation, "hello")


def test_quota_and_length(windowed_kind):
    conversation = make_conversation(make_channel(OrganizationFactory()), outbound_since_inbound=1)
    assert composer_state(conversation).remaining_messages == 1
    with pytest.raises(ValidationError, match="at most 10"):
        check_can_send(conversation, "x" * 11)
    conversation.outbound_since_inbound = 2
    with pytest.raises(ValidationError, match="must reply"):
        check_can_send(conversation, "ok")


@pytest.fixture
def human_agent_window():
    previous = rules_for("sandbox")
    register("sandbox", ChannelRules(reply_window=timedelta(hours=24), extended_window=timedelta(days=7)))
    yield
    register("sandbox", previous)


def test_extended_window_is_for_people_only(human_agent_window):
    conversation = make_conversation(make_channel(OrganizationFactory()),
                                     last_inbound_at=timezone.now() - timedelta(days=2))
    state = composer_state(conversation)
    assert state.can_send and state.extended
    assert not composer_state(conversation, human=False).can_send
    conversation.last_inbound_at = timezone.now() - timedelta(days=8)
    assert not composer_state(conversation).can_send


def test_a_channel_that_needs_reconnecting_refuses_before_the_provider_does():
    conversation = make_conversation(make_channel(OrganizationFactory()))
    conversation.channel.status = "needs_reauthorization"
    state = composer_state(conversation)
    assert not state.can_send and "reconnected" in state.reason
    with pytest.raises(ValidationError, match="reconnected"):
        check_can_send(conversation, "hello")
