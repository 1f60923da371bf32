"""A label an agent applies becomes the configured TikTok event, once per conversation and label."""

from __future__ import annotations

import pytest

from inbox.models import Role
from inbox.services.labels import label_apply, label_create, label_remove
from signals.models import MessageEventRule, SignalEvent
from signals.services import accounts
from tests.factories import MembershipFactory

pytestmark = [pytest.mark.django_db, pytest.mark.core]


def test_label_applied_rule_fires_once_per_conversation_and_only_for_its_label(shop):
    accounts.event_rule_create(organization=shop.organization, trigger=MessageEventRule.Trigger.LABEL_APPLIED,
                               flag="VIP", event_name="SubmitForm", advertiser_account=shop.account)
    admin = MembershipFactory(organization=shop.organization, role=Role.ADMIN).user
    conversation = shop.receive("hello").message.conversation
    vip = label_create(user=admin, organization_id=shop.organization.pk, name="VIP")
    other = label_create(user=admin, organization_id=shop.organization.pk, name="Wholesale")

    label_apply(user=admin, conversation=conversation, label=other)
    assert not SignalEvent.objects.filter(trigger="label_applied").exists()

    label_apply(user=admin, conversation=conversation, label=vip)
    label_remove(user=admin, conversation=conversation, label=vip)
    label_apply(user=admin, conversation=conversation, label=vip)

    events = SignalEvent.objects.filter(trigger="label_applied")
    assert [(e.event_name, e.conversation_id) for e in events] == [("SubmitForm", conversation.pk)]
