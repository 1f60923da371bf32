"""The filter language: validation errors, one test per condition, and a property test against plain Python."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from inbox.filters import (
    FilterError,
    apply_filter,
    compile_filter,
    filter_context,
    parse_filter,
    register_condition,
    unregister_condition,
)
from inbox.models import ConversationLabel, ConversationRead, Role, Team
from inbox.permissions import visible_conversations
from tests.factories import MessageFactory, OrganizationFactory, make_channel, make_conversation
from tests.inbox.factories import LabelFactory, member

pytestmark = [pytest.mark.django_db, pytest.mark.core]


@pytest.fixture
def org():
    return OrganizationFactory()


def ids(user, document):
    context = filter_context(user)
    return sorted(apply_filter(visible_conversations(user), document, context=context).values_list("id", flat=True))


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("{not json", "not valid JSON"),
        ([], "expected an object"),
        ({"colour": "red"}, "filter.colour: unknown condition"),
        ({"status": "closed"}, "filter.status: expected one of open, pending, snoozed, resolved"),
        ({"status": ["open", "nope"]}, r"filter.status\[1\]"),
        ({"labels": {"some": [1]}}, "filter.labels: unknown key 'some'"),
        ({"labels": {"any": ["vip"]}}, r"filter.labels.any\[0\]: expected a non-negative integer"),
        ({"assignee": "everyone"}, 'filter.assignee: expected "me"'),
        ({"created": {"after": "yesterday"}}, "filter.created.after: expected an ISO 8601"),
        ({"waiting_minutes": -5}, "filter.waiting_minutes"),
        # Found by the long fuzz run: spans too long to subtract from now were an OverflowError (a 500).
        ({"waiting_minutes": 2**31}, "filter.waiting_minutes: expected a number of minutes from 0 to 52,560,000"),
        ({"created": {"within_days": 10**9}}, "filter.created.within_days: expected a number of days from 0 to"),
        ({"or": []}, "filter.or: expected a non-empty list"),
        ({"or": [{"status": "open"}, {"bogus": 1}]}, r"filter.or\[1\].bogus: unknown condition"),
        ({"unread": "yes"}, "filter.unread: expected true or false"),
        ({"text": "  "}, "filter.text: expected a non-empty string"),
    ],
)
def test_invalid_documents_name_the_offending_path(document, message):
    with pytest.raises(FilterError, match=message):
        parse_filter(document)


def test_empty_document_matches_everything(org):
    channel = make_channel(org)
    admin = member(org, Role.ADMIN)
    a = make_conversation(channel, "a")
    b = make_conversation(channel, "b")
    assert ids(admin, {}) == [a.pk, b.pk]
    assert ids(admin, "") == [a.pk, b.pk]


def test_status_channel_and_kind(org):
    sandbox = make_channel(org, name="S1")
    other = make_channel(org, name="S2")
    admin = member(org, Role.ADMIN)
    open_one = make_conversation(sandbox, "a")
    pending = make_conversation(other, "b", status="pending")
    assert ids(admin, {"status": "open"}) == [open_one.pk]
    assert ids(admin, {"status": ["open", "pending"]}) == [open_one.pk, pending.pk]
    assert ids(admin, {"channel": other.pk}) == [pending.pk]
    assert ids(admin, {"channel_kind": ["sandbox"]}) == [open_one.pk, pending.pk]
    assert ids(admin, {"channel_kind": "whatsapp"}) == []


def test_labels_any_all_none(org):
    channel = make_channel(org)
    admin = member(org, Role.ADMIN)
    vip, refund = LabelFactory(organization=org), LabelFactory(organization=org)
    both, only_vip, neither = (make_conversation(channel, c) for c in "abc")
    for conversation, labels in ((both, [vip, refund]), (only_vip, [vip])):
        for label in labels:
            ConversationLabel.objects.create(conversation=conversation, label=label)
    assert ids(admin, {"labels": {"any": [vip.pk, refund.pk]}}) == [both.pk, only_vip.pk]
    assert ids(admin, {"labels": {"all": [vip.pk, refund.pk]}}) == [both.pk]
    assert ids(admin, {"labels": {"none": [refund.pk]}}) == [only_vip.pk, neither.pk]
    assert ids(admin, {"labels": {"any": [vip.pk], "none": [refund.pk]}}) == [only_vip.pk]
    assert ids(admin, {"labels": {"any": []}}) == []


def test_assignee_me_nobody_someone_and_id(org):
    channel = make_channel(org)
    me = member(org, Role.ADMIN)
    colleague = member(org, Role.ADMIN)
    mine = make_conversation(channel, "a", assignee=me)
    theirs = make_conversation(channel, "b", assignee=colleague)
    nobodys = make_conversation(channel, "c")
    assert ids(me, {"assignee": "me"}) == [mine.pk]
    assert ids(colleague, {"assignee": "me"}) == [theirs.pk]
    assert ids(me, {"assignee": "nobody"}) == [nobodys.pk]
    assert ids(me, {"assignee": "someone"}) == [mine.pk, theirs.pk]
    assert ids(me, {"assignee": colleague.pk}) == [theirs.pk]


def test_team_mine_nobody_and_id(org):
    channel = make_channel(org)
    me = member(org, Role.ADMIN)
    sales, support = (
        Team.objects.create(organization=org, name="Sales"),
        Team.objects.create(organization=org, name="Support"),
    )
    me.memberships.get().teams.add(sales)
    a = make_conversation(channel, "a", team=sales)
    b = make_conversation(channel, "b", team=support)
    c = make_conversation(channel, "c")
    assert ids(me, {"team": "mine"}) == [a.pk]
    assert ids(me, {"team": "nobody"}) == [c.pk]
    assert ids(me, {"team": support.pk}) == [b.pk]


def test_priority_campaign_and_tracking_id(org):
    channel = make_channel(org)
    admin = member(org, Role.ADMIN)
    urgent = make_conversation(channel, "a", priority="urgent", campaign_id="cmp-1", tracking_id="trk-1")
    plain = make_conversation(channel, "b")
    assert ids(admin, {"priority": ["high", "urgent"]}) == [urgent.pk]
    assert ids(admin, {"campaign_id": True}) == [urgent.pk]
    assert ids(admin, {"campaign_id": False}) == [plain.pk]
    assert ids(admin, {"campaign_id": "cmp-1"}) == [urgent.pk]
    assert ids(admin, {"tracking_id": "trk-2"}) == []
    assert ids(admin, {"tracking_id": True}) == [urgent.pk]


def test_created_and_last_activity_ranges(org):
    channel = make_channel(org)
    admin = member(org, Role.ADMIN)
    now = timezone.now()
    old = make_conversation(channel, "a", created_at=now - timedelta(days=10), last_message_at=now - timedelta(days=9))
    new = make_conversation(channel, "b", created_at=now - timedelta(hours=1), last_message_at=now)
    after = (now - timedelta(days=2)).isoformat()
    assert ids(admin, {"created": {"after": after}}) == [new.pk]
    assert ids(admin, {"created": {"before": after}}) == [old.pk]
    assert ids(admin, {"last_activity": {"within_days": 3}}) == [new.pk]
    assert ids(admin, {"last_activity": {"after": "2000-01-01T00:00:00", "before": after}}) == [old.pk]


def test_waiting_for_reply_longer_than(org):
    channel = make_channel(org)
    admin = member(org, Role.ADMIN)
    now = timezone.now()
    waiting = make_conversation(channel, "a", last_inbound_at=now - timedelta(minutes=45))
    make_conversation(channel, "b", last_inbound_at=now - timedelta(minutes=5))  # not long enough
    make_conversation(channel, "c", last_inbound_at=now - timedelta(hours=3), outbound_since_inbound=1)  # answered
    assert ids(admin, {"waiting_minutes": 30}) == [waiting.pk]


def test_unread_is_per_agent(org):
    channel = make_channel(org)
    ana, budi = member(org, Role.ADMIN), member(org, Role.ADMIN)
    conversation = make_conversation(channel, "a")
    message = MessageFactory(conversation=conversation)
    conversation.last_inbound_message_id = message.pk
    conversation.save()
    quiet = make_conversation(channel, "b")
    ConversationRead.objects.create(user=ana, conversation=conversation, last_read_message_id=message.pk)
    assert ids(ana, {"unread": True}) == []
    assert ids(budi, {"unread": True}) == [conversation.pk]
    assert ids(budi, {"unread": False}) == [quiet.pk]


def test_free_text_over_contact_and_messages(org):
    channel = make_channel(org)
    admin = member(org, Role.ADMIN)
    by_name = make_conversation(channel, "a", name="Dewi Lestari")
    by_message = make_conversation(channel, "b", name="Budi")
    MessageFactory(conversation=by_message, body="Is the batik still available?")
    make_conversation(channel, "c", name="Someone else")
    assert ids(admin, {"text": "dewi"}) == [by_name.pk]
    assert ids(admin, {"text": "batik"}) == [by_message.pk]


def test_and_or_not_groups(org):
    channel = make_channel(org)
    admin = member(org, Role.ADMIN)
    a = make_conversation(channel, "a", priority="high")
    b = make_conversation(channel, "b", status="pending")
    c = make_conversation(channel, "c", status="pending", priority="high")
    document = {
        "or": [{"priority": "high", "status": "open"}, {"and": [{"status": "pending"}, {"not": {"priority": "high"}}]}]
    }
    assert ids(admin, document) == [a.pk, b.pk]
    assert ids(admin, {"not": {"or": [{"status": "open"}, {"priority": "none"}]}}) == [c.pk]


def test_agents_only_ever_see_their_channels(org):
    mine, other = make_channel(org, name="Mine"), make_channel(org, name="Other")
    agent = member(org, Role.AGENT, channels=[mine])
    visible = make_conversation(mine, "a")
    make_conversation(other, "b")
    assert ids(agent, {}) == [visible.pk]
    assert ids(agent, {"channel": other.pk}) == []


def test_other_apps_register_conditions(org):
    channel = make_channel(org)
    admin = member(org, Role.ADMIN)
    flagged = make_conversation(channel, "a", tracking_id="x")
    make_conversation(channel, "b")

    from django.db.models import Q

    register_condition("has_tracking", lambda value, ctx: ~Q(tracking_id="") if value else Q(tracking_id=""))
    try:
        assert ids(admin, {"has_tracking": True}) == [flagged.pk]
        with pytest.raises(FilterError, match="filter.has_tracking: expected true or false"):
            parse_filter({"has_tracking": "yes"})
        with pytest.raises(ValueError, match="built-in"):
            register_condition("status", lambda value, ctx: Q())
    finally:
        unregister_condition("has_tracking")


def test_compile_returns_a_q_without_touching_the_database(django_assert_num_queries, org):
    admin = member(org, Role.ADMIN)
    context = filter_context(admin)
    with django_assert_num_queries(0):
        compile_filter({"status": "open", "labels": {"all": [1, 2]}, "or": [{"assignee": "me"}]}, context=context)
