"""Automation acts as itself ("Automation: <rule> v<n>"), not as the rule's author, and humans' permission checks
are unchanged."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import PermissionDenied

from inbox.access.models import AuditLog
from inbox.automation.services.runs import message_evaluate
from inbox.models import ConversationLabel, InboxEvent, Label, Membership, Note
from inbox.services.actors import AutomationActor
from inbox.services.labels import label_apply
from tests.automation.factories import make_rule, make_shop
from tests.factories import MembershipFactory, MessageFactory, OrganizationFactory, UserFactory, make_conversation

pytestmark = [pytest.mark.core, pytest.mark.django_db]


def _actions_rule(shop, agent):
    Label.objects.create(organization=shop.organization, name="VIP")
    return make_rule(
        shop,
        name="VIP buyers",
        keywords=["wholesale"],
        actions=[
            {"type": "add_label", "label": "VIP"},
            {"type": "assign"},
            {"type": "add_note", "text": "Wholesale lead"},
        ],
    )


def _shop_with_rule():
    """A shop whose "VIP buyers" rule labels, assigns and writes a note, and an agent of its channel."""
    shop = make_shop()
    agent = MembershipFactory(organization=shop.organization, role="agent").user
    Membership.objects.filter(user=agent).first().channels.add(shop.channel)
    _actions_rule(shop, agent)
    return shop, agent


def test_labels_assignment_and_notes_show_the_automation_as_actor():
    shop, agent = _shop_with_rule()
    conversation = make_conversation(shop.channel)
    message = MessageFactory(conversation=conversation, body="wholesale price?")

    [run] = message_evaluate(message_id=message.pk)

    assert [a["status"] for a in run.actions] == ["done", "done", "done"], run.actions
    link = ConversationLabel.objects.get(conversation=conversation)
    assert link.label.name == "VIP" and link.added_by is None  # not the author
    conversation.refresh_from_db()
    assert conversation.assignee == agent
    note = Note.objects.get(conversation=conversation)
    assert note.author is None
    # The event log (what browsers and the thread are sent) names the rule and version.
    logged = [e for e in InboxEvent.objects.filter(organization=shop.organization) if "actor" in e.payload]
    assert logged and {e.payload["actor"]["name"] for e in logged} == {"Automation: VIP buyers v1"}
    assert {e.name for e in logged} >= {"conversation.updated", "note.created"}
    # And the audit log.
    audited = AuditLog.objects.filter(organization=shop.organization, action__startswith="automation.")
    assert set(audited.values_list("actor_name", flat=True)) == {"Automation: VIP buyers v1"}
    assert set(audited.values_list("action", flat=True)) == {
        "automation.label_apply",
        "automation.conversation_assign",
        "automation.note_add",
    }
    assert all(entry.actor_id is None for entry in audited)


def test_a_deactivated_author_does_not_stop_the_rule():
    shop, agent = _shop_with_rule()
    Membership.objects.filter(user=shop.admin).update(is_active=False)
    shop.admin.is_active = False
    shop.admin.save(update_fields=["is_active"])
    conversation = make_conversation(shop.channel)

    [run] = message_evaluate(message_id=MessageFactory(conversation=conversation, body="wholesale").pk)

    assert [a["status"] for a in run.actions] == ["done", "done", "done"], run.actions
    assert ConversationLabel.objects.filter(conversation=conversation, label__name="VIP").exists()


def test_the_automation_actor_acts_only_in_its_own_organization_and_humans_are_still_checked():
    shop = make_shop()
    conversation = make_conversation(shop.channel)
    label = Label.objects.create(organization=shop.organization, name="VIP")
    other = OrganizationFactory()
    with pytest.raises(PermissionDenied):
        label_apply(user=AutomationActor(other.pk, 1, "Elsewhere", 1), conversation=conversation, label=label)
    with pytest.raises(PermissionDenied):
        label_apply(user=UserFactory(), conversation=conversation, label=label)  # not a member
    assert not ConversationLabel.objects.exists()


def test_the_thread_names_the_rule_that_wrote_a_note(client):
    """Issue 6: a note written by a rule is labelled with the rule and version, as the event log and audit log
    name it, instead of "Someone"; a member's note still shows its author."""
    shop, agent = _shop_with_rule()
    conversation = make_conversation(shop.channel)
    message_evaluate(message_id=MessageFactory(conversation=conversation, body="wholesale price?").pk)
    note = Note.objects.get(conversation=conversation)
    assert note.metadata["automation"]["rule_name"] == "VIP buyers"
    Note.objects.create(conversation=conversation, author=agent, body="Called them back")

    client.force_login(agent)
    page = client.get(f"/inbox/c/{conversation.pk}/").content.decode()

    automated = re.search(rf'data-note-id="{note.pk}">.*?<div class="meta">(.*?)·', page, re.S)
    assert automated, page
    assert "Automation: VIP buyers v1" in automated.group(1)
    assert "Someone" not in automated.group(1)
    assert f"{agent.get_username()} ·" in page


def test_the_live_note_event_names_the_rule():
    shop, agent = _shop_with_rule()
    conversation = make_conversation(shop.channel)
    message_evaluate(message_id=MessageFactory(conversation=conversation, body="wholesale").pk)

    [event] = InboxEvent.objects.filter(organization=shop.organization, name="note.created")
    assert event.payload["note"]["author_name"] == "Automation: VIP buyers v1"


def test_the_notes_api_names_the_rule_that_wrote_a_note(client):
    shop, agent = _shop_with_rule()
    conversation = make_conversation(shop.channel)
    message_evaluate(message_id=MessageFactory(conversation=conversation, body="wholesale").pk)
    Note.objects.create(conversation=conversation, author=agent, body="Called them back")

    client.force_login(agent)
    notes = client.get(f"/api/v1/conversations/{conversation.pk}/notes/").json()["results"]

    assert sorted(n["author_name"] for n in notes) == sorted(["Automation: VIP buyers v1", agent.get_username()])
