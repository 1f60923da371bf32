"""Changes to channels, connections, auto-reply rules, signal settings and exports leave audit rows (actor and
target), the audit page filters them; commerce money moves follow the policy; deactivation is an event."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

from inbox import events
from inbox.access.models import AuditLog
from inbox.access.services import members
from inbox.automation.services import rules
from inbox.models import Role
from integrations.connections.endpoints import endpoints
from integrations.connections.services.accounts import connection_disconnect
from integrations.services import channels
from tests.access.factories import CustomRoleFactory, make_world, member
from tests.connections.factories import make_tiktok_connection

pytestmark = [pytest.mark.core, pytest.mark.django_db]


@pytest.fixture
def world():
    return make_world()


def rows(world, prefix: str) -> list[AuditLog]:
    return list(AuditLog.objects.filter(organization=world.org, action__startswith=prefix).order_by("id"))


def test_channel_changes_are_audited_with_actor_and_target(world):
    owner = world.user("owner")
    channel = channels.channel_create(organization=world.org, kind="sandbox", name="Shop", created_by=owner)
    channels.channel_update(channel=channel, updated_by=owner, name="Shop 2")
    channels.channel_update(channel=channel, updated_by=owner, secrets={"app_secret": "s3cr3t-value-123"})
    channels.channel_disable(channel=channel, disabled_by=owner)
    channels.channel_enable(channel=channel, enabled_by=owner)
    channels.channel_disconnect(channel=channel, disconnected_by=owner)
    entries = [e for e in rows(world, "channel.") if e.target_id == str(channel.pk)]
    assert [e.action for e in entries] == [
        "channel.created",
        "channel.updated",
        "channel.secret_rotated",
        "channel.disabled",
        "channel.enabled",
        "channel.disconnected",
    ]
    assert {(e.actor_id, e.target_type, e.target_id) for e in entries} == {(owner.pk, "channel", str(channel.pk))}
    assert "s3cr3t-value-123" not in str([e.details for e in entries])


def test_connection_disconnect_is_in_the_organization_audit_log(world):
    owner = world.user("owner")
    connection = make_tiktok_connection(world.org, access_token="")  # no token: nothing to revoke at TikTok
    connection_disconnect(connection=connection, user=owner, ep=endpoints())
    entry = AuditLog.objects.get(organization=world.org, action="connection.disconnected")
    assert entry.actor == owner and entry.target_type == "connection" and entry.target_label == "Batik House"
    assert entry.target_id == str(connection.channel_id) and entry.details["provider"] == "tiktok"


def test_auto_reply_rule_changes_are_audited(world):
    owner = world.user("owner")
    content = {"trigger": "keyword", "keywords": ["price"], "actions": [{"type": "send_reply", "text": "Prices"}]}
    rule = rules.rule_create(user=owner, organization=world.org, name="Price", **content)
    second = rules.rule_create(user=owner, organization=world.org, name="Hours", **content)
    rule = rules.rule_update(user=owner, rule=rule, name="Prices", **content)
    rules.rule_set_enabled(user=owner, rule=rule, enabled=True)
    rules.rule_set_enabled(user=owner, rule=rule, enabled=False)
    rules.rules_reorder(user=owner, organization=world.org, rule_ids=[second.pk, rule.pk])
    second_id = second.pk
    rules.rule_delete(user=owner, rule=second)
    entries = rows(world, "auto_reply.")
    assert [(e.action, e.target_label) for e in entries] == [
        ("auto_reply.created", "Price"),
        ("auto_reply.created", "Hours"),
        ("auto_reply.updated", "Prices"),
        ("auto_reply.enabled", "Prices"),
        ("auto_reply.disabled", "Prices"),
        ("auto_reply.reordered", "Org A"),
        ("auto_reply.deleted", "Hours"),
    ]
    assert all(e.actor == owner for e in entries)
    assert entries[-1].target_id == str(second_id)


def test_signal_settings_and_exports_are_audited_and_filterable(world):
    from signals.models import KeywordList

    client = Client()
    client.force_login(world.user("admin"))
    client.post("/signals/keywords/", {"action": "create_list", "name": "Prices"})
    keyword_list = KeywordList.objects.get(organization=world.org, name="Prices")
    client.post("/signals/keywords/", {"action": "add", "list": keyword_list.pk, "phrase": "how much"})
    client.post("/signals/keywords/", {"action": "nonsense", "list": keyword_list.pk})  # not a change: no row
    client.post("/signals/extractors/", {"action": "disable", "rule": 0})
    client.post(
        "/signals/events/",
        {"action": "connect", "name": "Ads", "event_set_id": "1", "access_token": "tok-SECRET-1", "is_sandbox": "1"},
    )
    assert client.get(f"/signals/keywords/{keyword_list.pk}/export.csv").status_code == 200
    assert client.get("/commerce/orders/", {"format": "csv"}).status_code == 200
    actions = [e.action for e in rows(world, "signals.")]
    assert actions == [
        "signals.keywords.create_list",
        "signals.keywords.add",
        "signals.extractors.disable",
        "signals.events.connect",
    ]
    assert all(e.actor == world.user("admin") for e in rows(world, "signals."))
    assert "tok-SECRET-1" not in str([e.details for e in rows(world, "signals.")])
    exports = rows(world, "export.")
    assert [e.target_label for e in exports] == [f"keywords-{keyword_list.pk}.csv", "orders.csv"]
    # The audit page's filter narrows to them.
    page = client.get("/settings/audit/", {"action": "signals."}).content.decode()
    assert "signals.keywords.add" in page and "export.downloaded" not in page.split("<tbody")[-1]


# --- commerce money moves follow the policy ------------------------------------------------------------------------


def test_a_custom_role_can_be_granted_payments(world):
    from inbox.commerce.services import orders, payments

    granted = ["manage_conversations", "see_unassigned", "manage_payments"]
    cashier_role = CustomRoleFactory(organization=world.org, name="Cashier", permissions=granted)
    channel = world.channels["one"]
    cashier = member(world.org, Role.AGENT, username="cashier", channels=(channel,), custom_role=cashier_role).user
    conversation = world.conversations["open"]
    order = orders.order_create(
        user=world.user("owner"),
        conversation=conversation,
        currency="USD",
        lines=[orders.LineInput(name="Gift wrap", unit_price=Decimal("3.00"))],
    )
    orders.order_transition(user=world.user("owner"), order=order, to="awaiting_payment")
    with pytest.raises(PermissionDenied):
        payments.payment_record_manual(user=world.user("agent"), order=order, method="cash")
    payments.payment_record_manual(user=cashier, order=order, method="cash")
    order.refresh_from_db()
    assert order.status == "paid"


# --- deactivation is an event --------------------------------------------------------------------------------------


def test_deactivation_publishes_member_deactivated(world):
    seen: list[events.DomainEvent] = []
    events.subscribe("member.deactivated", seen.append, phase=events.IN_TRANSACTION)
    try:
        target = world.members["agent"]
        members.member_deactivate(actor=world.user("admin"), membership=target)
        members.member_deactivate(actor=world.user("admin"), membership=target)  # already off: no second event
    finally:
        events.unsubscribe(seen.append)
    assert [(e.name, e.organization_id) for e in seen] == [("member.deactivated", world.org.pk)]
    assert seen[0].payload == {
        "membership_id": target.pk,
        "user_id": target.user_id,
        "actor_id": world.user("admin").pk,
    }
