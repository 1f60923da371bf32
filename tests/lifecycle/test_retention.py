"""Retention: only what is older than the organization keeps is removed, in batches, with progress; dry run."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from inbox.lifecycle.models import RetentionPolicy, RetentionRun
from inbox.lifecycle.services import TOMBSTONE, policy_for, retention_apply, retention_preview
from inbox.lifecycle.tasks import apply_retention
from inbox.models import Conversation, Message, Role
from integrations.models import InboundWebhook
from signals.models import SignalEvent
from tests.factories import MembershipFactory, MessageFactory, OrganizationFactory, make_channel, make_conversation
from tests.signals.conftest import make_shop

pytestmark = [pytest.mark.django_db, pytest.mark.core]

DAY = timedelta(days=1)


def conversation(channel, n: int, *, age_days: int, status: str = "resolved", messages: int = 3) -> Conversation:
    at = timezone.now() - age_days * DAY
    conv = make_conversation(channel, customer_id=f"c-{n}", status=status, last_message_at=at)
    for i in range(messages):
        MessageFactory(conversation=conv, body=f"message {i} of {n}", created_at=at)
    return conv


@pytest.fixture
def world():
    shop = make_shop(sandbox=True, rules=False)
    channel = shop.channel
    old = [conversation(channel, n, age_days=40) for n in range(5)]
    recent = [conversation(channel, 10 + n, age_days=5) for n in range(2)]
    old_open = conversation(channel, 20, age_days=400, status="open")
    return shop, old, recent, old_open


def set_policy(organization, **values) -> RetentionPolicy:
    policy = policy_for(organization)
    for name, value in values.items():
        setattr(policy, name, value)
    policy.save()
    return policy


def test_old_resolved_conversations_are_deleted_in_batches_and_nothing_else(world):
    shop, old, recent, old_open = world
    other = OrganizationFactory()
    elsewhere = conversation(make_channel(other), 99, age_days=400)
    set_policy(shop.organization, resolved_conversations_days=30, conversation_action="delete")

    assert retention_preview(shop.organization)["conversations_deleted"] == 5
    run = retention_apply(shop.organization, batch_size=2)

    assert run.status == RetentionRun.Status.DONE and run.counts["conversations_deleted"] == 5
    assert run.batches == 3  # 2 + 2 + 1
    remaining = set(Conversation.objects.values_list("pk", flat=True))
    assert remaining == {c.pk for c in recent} | {old_open.pk, elsewhere.pk}
    assert not Message.objects.filter(conversation_id__in=[c.pk for c in old]).exists()
    assert Message.objects.filter(conversation=recent[0]).count() == 3
    assert retention_preview(shop.organization)["conversations_deleted"] == 0


def test_anonymising_keeps_conversations_with_tombstones(world):
    shop, old, recent, old_open = world
    set_policy(shop.organization, resolved_conversations_days=30, conversation_action="anonymise")
    run = retention_apply(shop.organization, batch_size=2)
    assert run.counts == {"conversations_anonymised": 5}
    assert set(Message.objects.filter(conversation__in=old).values_list("body", flat=True)) == {TOMBSTONE}
    assert TOMBSTONE not in set(Message.objects.filter(conversation__in=recent).values_list("body", flat=True))
    assert retention_apply(shop.organization).counts == {}  # already done: nothing twice


def test_a_conversation_with_an_order_is_anonymised_not_deleted(world):
    from inbox.commerce.services.orders import LineInput, order_create

    shop, old, recent, old_open = world
    admin = MembershipFactory(organization=shop.organization, role=Role.ADMIN).user
    Conversation.objects.filter(pk=old[0].pk).update(status="open")
    order_create(user=admin, conversation=old[0], currency="IDR", lines=[LineInput(name="x", unit_price="1")])
    Conversation.objects.filter(pk=old[0].pk).update(status="resolved", last_message_at=timezone.now() - 40 * DAY)
    set_policy(shop.organization, resolved_conversations_days=30, conversation_action="delete")
    preview = retention_preview(shop.organization)
    assert (preview["conversations_deleted"], preview["conversations_anonymised"]) == (4, 1)
    retention_apply(shop.organization)
    assert Conversation.objects.filter(pk=old[0].pk, last_message_preview=TOMBSTONE).exists()


def test_old_processed_webhooks_and_signal_outbox_rows_go(world):
    shop, *_ = world
    now = timezone.now()

    def webhook(n: int, age: int, status: str) -> InboundWebhook:
        return InboundWebhook.objects.create(
            provider="sandbox", channel=shop.channel, body=b"{}", body_sha256=f"{n:064d}", status=status,
            received_at=now - age * DAY,
        )  # fmt: skip

    old_done, recent_done = webhook(1, 40, "processed"), webhook(2, 5, "processed")
    old_failed = webhook(3, 40, "failed")

    def event(n: int, age: int, status: str) -> SignalEvent:
        return SignalEvent.objects.create(
            organization=shop.organization, advertiser_account=shop.account, trigger="keyword_flag",
            event_name="Contact", event_id=f"ev-{n}", event_time=now, status=status, created_at=now - age * DAY,
            delivered_at=now if status == "delivered" else None,
        )  # fmt: skip

    old_sent, recent_sent, old_pending = event(1, 100, "delivered"), event(2, 5, "delivered"), event(3, 100, "pending")
    set_policy(shop.organization, webhook_bodies_days=30, signal_outbox_days=90)
    preview = retention_preview(shop.organization)
    assert (preview["webhooks_deleted"], preview["signal_events_deleted"]) == (1, 1)
    assert preview["conversations_deleted"] is None  # kept for ever

    run = retention_apply(shop.organization, batch_size=1)

    assert set(InboundWebhook.objects.values_list("pk", flat=True)) == {recent_done.pk, old_failed.pk}
    assert set(SignalEvent.objects.values_list("pk", flat=True)) == {recent_sent.pk, old_pending.pk}
    assert run.counts["webhooks_deleted"] == 1 and run.counts["signal_events_deleted"] == 1
    assert old_done.pk not in set(InboundWebhook.objects.values_list("pk", flat=True))
    assert old_sent.pk not in set(SignalEvent.objects.values_list("pk", flat=True))


def test_a_run_stops_at_its_time_budget_and_the_next_goes_on(world):
    shop, old, *_ = world
    set_policy(shop.organization, resolved_conversations_days=30, conversation_action="delete")
    first = retention_apply(shop.organization, batch_size=1, time_budget=0)
    assert first.status == RetentionRun.Status.PARTIAL and first.counts == {}
    result = apply_retention()  # the daily beat task
    assert result == {str(shop.organization.pk): "done"}
    assert not Conversation.objects.filter(pk__in=[c.pk for c in old]).exists()


def test_the_settings_page_shows_the_dry_run_and_saves_the_policy(client, world):
    shop, *_ = world
    admin = MembershipFactory(organization=shop.organization, role=Role.ADMIN).user
    agent = MembershipFactory(organization=shop.organization, role=Role.AGENT).user
    client.force_login(agent)
    assert client.get("/settings/data/").status_code == 403
    client.force_login(admin)
    saved = client.post(
        "/settings/data/",
        {"resolved_conversations_days": "30", "conversation_action": "delete", "webhook_bodies_days": "",
         "signal_outbox_days": "90"},
    )  # fmt: skip
    assert saved.status_code == 302
    policy = RetentionPolicy.objects.get(organization=shop.organization)
    assert (policy.resolved_conversations_days, policy.webhook_bodies_days) == (30, None)
    page = client.get("/settings/data/").content.decode()
    assert "<td>Resolved conversations deleted</td><td>5</td>" in page
    bad = client.post("/settings/data/", {"resolved_conversations_days": "-3", "conversation_action": "delete"})
    assert bad.status_code == 400
    assert client.post("/settings/data/", {"contact_id": "abc"}).status_code == 400


def test_the_members_pages_lead_an_admin_to_the_data_settings(client, world):
    shop, *_ = world
    client.force_login(MembershipFactory(organization=shop.organization, role=Role.ADMIN).user)

    page = client.get("/settings/members/").content.decode()

    assert 'href="/settings/data/"' in page
