"""Working a conversation: status, assignment, priority, labels, notes and mentions, canned replies, views."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from inbox.models import Conversation, ConversationLabel, InboxEvent, Notification, Role, Team
from inbox.services import canned as canned_services
from inbox.services import conversations as services
from inbox.services import labels as label_services
from inbox.services import notes as note_services
from inbox.services import views as view_services
from inbox.services.messages import message_receive_inbound
from tests.factories import OrganizationFactory, make_channel, make_conversation
from tests.inbox.factories import CannedReplyFactory, LabelFactory, member

pytestmark = [pytest.mark.django_db, pytest.mark.core]


@pytest.fixture
def world():
    org = OrganizationFactory()
    channel = make_channel(org)
    other_channel = make_channel(org, name="Other")
    agent = member(org, Role.AGENT, channels=[channel], username="ana")
    colleague = member(org, Role.AGENT, channels=[channel], username="budi")
    outsider = member(org, Role.AGENT, channels=[other_channel], username="citra")
    admin = member(org, Role.ADMIN, username="dewi")
    conversation = make_conversation(channel, "cust-1", name="Eka")
    return {
        "org": org,
        "channel": channel,
        "agent": agent,
        "colleague": colleague,
        "outsider": outsider,
        "admin": admin,
        "conversation": conversation,
    }


def updated_events(conversation):
    return list(InboxEvent.objects.filter(name="conversation.updated", payload__conversation__id=conversation.pk))


def test_status_changes_are_published_with_labels_assignee_and_team(world):
    conversation, agent = world["conversation"], world["agent"]
    services.conversation_set_status(conversation=conversation, user=agent, status="pending")
    event = updated_events(conversation)[-1]
    assert event.payload["conversation"]["status"] == "pending"
    assert {"labels", "assignee_name", "team_name"} <= set(event.payload["conversation"])
    assert event.channel_id == conversation.channel_id


def test_snooze_needs_a_future_time_and_reopens(world):
    conversation, agent = world["conversation"], world["agent"]
    with pytest.raises(ValidationError, match="time in the future"):
        services.conversation_set_status(conversation=conversation, user=agent, status="snoozed")
    until = timezone.now() + timedelta(hours=1)
    services.conversation_set_status(conversation=conversation, user=agent, status="snoozed", snoozed_until=until)
    assert services.conversations_reopen_snoozed(now=timezone.now()) == 0
    assert services.conversations_reopen_snoozed(now=until + timedelta(seconds=1)) == 1
    conversation.refresh_from_db()
    assert conversation.status == "open" and conversation.snoozed_until is None


def test_a_customer_message_reopens_a_snoozed_conversation(world):
    conversation, agent = world["conversation"], world["agent"]
    until = timezone.now() + timedelta(days=1)
    services.conversation_set_status(conversation=conversation, user=agent, status="snoozed", snoozed_until=until)
    message_receive_inbound(
        channel=world["channel"], customer_id="cust-1", external_id="m-1", sent_at=timezone.now(), text="hello?"
    )
    conversation.refresh_from_db()
    assert conversation.status == "open"


def test_reopening_when_the_customer_has_another_open_conversation_is_refused(world):
    conversation, agent = world["conversation"], world["agent"]
    services.conversation_set_status(conversation=conversation, user=agent, status="resolved")
    Conversation.objects.create(
        organization=world["org"],
        channel=conversation.channel,
        contact=conversation.contact,
        identity=conversation.identity,
    )
    with pytest.raises(ValidationError, match="already has an unresolved conversation"):
        services.conversation_set_status(conversation=conversation, user=agent, status="open")


def test_outsiders_cannot_change_a_conversation(world):
    with pytest.raises(PermissionDenied):
        services.conversation_set_status(conversation=world["conversation"], user=world["outsider"], status="resolved")
    with pytest.raises(PermissionDenied):
        services.conversation_set_priority(conversation=world["conversation"], user=world["outsider"], priority="high")


def test_assign_self_other_team_and_unassign(world):
    conversation, agent, colleague = world["conversation"], world["agent"], world["colleague"]
    team = Team.objects.create(organization=world["org"], name="Support")
    services.conversation_assign(conversation=conversation, user=agent, assignee=agent)
    assert Notification.objects.count() == 0  # self-assignment notifies nobody
    services.conversation_assign(conversation=conversation, user=agent, assignee=colleague, team=team)
    conversation.refresh_from_db()
    assert (conversation.assignee, conversation.team) == (colleague, team)
    assert Notification.objects.get().user == colleague
    services.conversation_assign(conversation=conversation, user=agent, assignee=None)
    conversation.refresh_from_db()
    assert conversation.assignee is None and conversation.team == team


def test_cannot_assign_to_someone_without_access_to_the_channel(world):
    with pytest.raises(ValidationError, match="citra has no access"):
        services.conversation_assign(
            conversation=world["conversation"], user=world["agent"], assignee=world["outsider"]
        )
    other_team = Team.objects.create(organization=OrganizationFactory(), name="Elsewhere")
    with pytest.raises(ValidationError, match="another organization"):
        services.conversation_assign(conversation=world["conversation"], user=world["agent"], team=other_team)


def test_bulk_changes_only_touch_visible_conversations(world):
    agent = world["agent"]
    mine = [world["conversation"], make_conversation(world["channel"], "cust-2")]
    hidden = make_conversation(world["outsider"].memberships.get().channels.get(), "cust-3")
    ids = [c.pk for c in mine] + [hidden.pk]
    assert services.conversation_bulk_set_status(user=agent, conversation_ids=ids, status="resolved") == 2
    assert services.conversation_bulk_assign(user=agent, conversation_ids=ids, assignee=agent) == 2
    assert services.conversation_bulk_set_priority(user=agent, conversation_ids=ids, priority="high") == 2
    hidden.refresh_from_db()
    assert (hidden.status, hidden.assignee, hidden.priority) == ("open", None, "none")
    assert set(Conversation.objects.filter(status="resolved", priority="high").values_list("id", flat=True)) == {
        c.pk for c in mine
    }


def test_labels_are_managed_by_admins_and_applied_by_agents(world):
    agent, admin, conversation = world["agent"], world["admin"], world["conversation"]
    with pytest.raises(PermissionDenied):
        label_services.label_create(user=agent, organization_id=world["org"].pk, name="VIP")
    vip = label_services.label_create(user=admin, organization_id=world["org"].pk, name="VIP", colour="#AA0000")
    with pytest.raises(ValidationError, match="already exists"):
        label_services.label_create(user=admin, organization_id=world["org"].pk, name="vip")
    with pytest.raises(ValidationError, match="#rrggbb"):
        label_services.label_create(user=admin, organization_id=world["org"].pk, name="Red", colour="red")
    assert label_services.label_apply(user=agent, conversation=conversation, label=vip) is True
    assert label_services.label_apply(user=agent, conversation=conversation, label=vip) is False
    assert updated_events(conversation)[-1].payload["conversation"]["labels"][0]["name"] == "VIP"
    assert label_services.label_bulk_apply(user=agent, conversation_ids=[conversation.pk], label=vip, remove=True) == 1
    assert not ConversationLabel.objects.exists()
    foreign = LabelFactory()
    with pytest.raises(ValidationError, match="another organization"):
        label_services.label_apply(user=agent, conversation=conversation, label=foreign)


def test_note_mentions_notify_members_who_can_see_the_conversation(world, django_capture_on_commit_callbacks):
    agent, conversation = world["agent"], world["conversation"]
    with django_capture_on_commit_callbacks(execute=True):
        note = note_services.note_add(
            user=agent, conversation=conversation, body="@budi @citra @nobody @Ana can one of you check stock?"
        )
    assert [u.username for u in note.mentions.all()] == ["budi"]  # citra cannot see it; ana is the author
    notification = Notification.objects.get()
    assert (notification.user, notification.kind, notification.note) == (world["colleague"], "mention", note)
    personal = InboxEvent.objects.get(name="notification.created")
    assert personal.user_id == world["colleague"].pk
    assert InboxEvent.objects.get(name="note.created").payload["note"]["body"].startswith("@budi")
    with pytest.raises(ValidationError, match="empty"):
        note_services.note_add(user=agent, conversation=conversation, body="   ")
    with pytest.raises(PermissionDenied):
        note_services.note_add(user=world["outsider"], conversation=conversation, body="hi")


def test_mentioned_usernames():
    assert note_services.mentioned_usernames("hi @ana.putri, and @budi! mail me@x.com @ana.putri") == [
        "ana.putri",
        "budi",
    ]


def test_canned_replies_render_variables_and_report_missing_ones(world):
    agent, conversation = world["agent"], world["conversation"]
    canned = canned_services.canned_reply_create(
        user=agent,
        organization_id=world["org"].pk,
        short_code="/Thanks",
        body="Hi {{contact.name}}, {{agent.name}} here. Order {{ order.number }}.",
    )
    assert canned.short_code == "thanks"
    rendered = canned_services.canned_reply_render(canned=canned, conversation=conversation, user=agent)
    assert rendered.text == "Hi Eka, ana here. Order ."
    assert rendered.missing == ["order.number"]
    with pytest.raises(ValidationError, match="Unknown variable"):
        canned_services.canned_reply_create(
            user=agent, organization_id=world["org"].pk, short_code="x", body="{{foo.bar}}"
        )
    with pytest.raises(ValidationError, match="already exists"):
        canned_services.canned_reply_create(user=agent, organization_id=world["org"].pk, short_code="thanks", body="x")
    with pytest.raises(PermissionDenied):
        canned_services.canned_reply_update(user=world["colleague"], canned=canned, body="mine now")
    canned_services.canned_reply_update(user=world["admin"], canned=canned, body="Hello {{contact.name}}")
    canned_services.register_variable("order.number", lambda c, a: "ORD-7")
    try:
        other = CannedReplyFactory(organization=world["org"], body="Your order {{order.number}}")
        assert canned_services.canned_reply_render(canned=other, conversation=conversation, user=agent).text == (
            "Your order ORD-7"
        )
    finally:
        canned_services.register_variable("order.number", lambda c, a: "")


def test_saved_views_personal_and_shared(world):
    agent, colleague = world["agent"], world["colleague"]
    team = Team.objects.create(organization=world["org"], name="Support")
    agent.memberships.get().teams.add(team)
    colleague.memberships.get().teams.add(team)
    personal = view_services.saved_view_create(user=agent, name="Mine", filters_document={"assignee": "me"})
    shared = view_services.saved_view_create(
        user=agent, name="VIP", filters_document='{"priority": ["high"]}', shared_with_team=team
    )
    assert shared.filters == {"priority": ["high"]} and shared.position == personal.position + 1
    assert list(view_services.saved_views_visible(agent)) == [personal, shared]
    assert list(view_services.saved_views_visible(colleague)) == [shared]
    with pytest.raises(ValidationError, match="filter.prio"):
        view_services.saved_view_create(user=agent, name="Bad", filters_document={"prio": 1})
    with pytest.raises(PermissionDenied):
        view_services.saved_view_update(user=colleague, view=shared, name="Taken")
    other_team = Team.objects.create(organization=world["org"], name="Sales")
    with pytest.raises(PermissionDenied, match="your own teams"):
        view_services.saved_view_create(user=agent, name="X", filters_document={}, shared_with_team=other_team)
