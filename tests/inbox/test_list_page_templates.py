"""The list page's SQL is compiled once per shape and bound to each request's values (issue 4).

What must hold: a reused template answers exactly what compiling the page's queryset answers (the model-based
``conversation_page``), for any member and any filter; it never serves rows of another member or organization;
a change of role or access is seen at once; and conditions whose values may shape the SQL are compiled each time.
"""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.db.models import Q
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inbox import filters, selectors, sql_templates
from inbox.access.models import CustomRole, MemberAccess
from inbox.models import Conversation, ConversationLabel, ConversationRead, Role, Team
from tests.factories import MessageFactory, OrganizationFactory, make_channel, make_conversation
from tests.inbox.factories import LabelFactory, member
from tests.inbox.test_filters_property import documents

pytestmark = [pytest.mark.django_db, pytest.mark.core]


@pytest.fixture(autouse=True)
def fresh_templates():
    selectors.clear_page_templates()
    yield
    selectors.clear_page_templates()


@pytest.fixture
def compiles(monkeypatch):
    """How many times the page's queryset was compiled (three when a shape is learned, none when reused)."""
    calls = []
    original = sql_templates.compile_values

    def counting(queryset):
        calls.append(queryset)
        return original(queryset)

    monkeypatch.setattr(sql_templates, "compile_values", counting)
    return calls


def ids(page) -> list[int]:
    return [row["id"] for row in page.rows]


def expected_rows(user, document, cursor=None, limit=selectors.PAGE_SIZE):
    """The same page through the model path (``conversation_page``: Django compiles it every time)."""
    page = selectors.conversation_page(user=user, document=document, cursor=cursor, limit=limit)
    return [selectors.conversation_detail_dict(c) for c in page.conversations], page.next_cursor


def assert_same_page(user, document, cursor=None, limit=selectors.PAGE_SIZE):
    page = selectors.conversation_rows(user=user, document=document, cursor=cursor, limit=limit)
    want, want_cursor = expected_rows(user, document, cursor, limit)
    assert ids(page) == [row["id"] for row in want], document
    for got, expected in zip(page.rows, want, strict=True):
        assert got == {key: expected[key] for key in got}, document
    assert page.next_cursor == want_cursor
    return page


def test_one_shape_two_members_each_see_only_their_own_rows(compiles):
    org, neighbour_org = OrganizationFactory(), OrganizationFactory()
    one, two = make_channel(org, name="One"), make_channel(org, name="Two")
    ana = member(org, Role.AGENT, channels=[one], username="ana")
    budi = member(org, Role.AGENT, channels=[two], username="budi")
    neighbour = member(neighbour_org, Role.ADMIN, username="neighbour")
    on_one = make_conversation(one, "a", status="open")
    on_two = make_conversation(two, "b", status="open")
    next_door = make_conversation(make_channel(neighbour_org, name="Theirs"), "c", status="open")
    pending = make_conversation(two, "d", status="pending")

    for _ in range(3):  # the first round learns each member's template, the others reuse them
        assert ids(selectors.conversation_rows(user=ana, document={"status": ["open"]})) == [on_one.pk]
        assert ids(selectors.conversation_rows(user=budi, document={"status": ["open"]})) == [on_two.pk]
        assert ids(selectors.conversation_rows(user=neighbour, document={"status": ["open"]})) == [next_door.pk]
        # the same shape with another value: bound again, not served from the first request
        assert ids(selectors.conversation_rows(user=budi, document={"status": ["pending"]})) == [pending.pk]
        assert ids(selectors.conversation_rows(user=ana, document={"status": ["pending"]})) == []
    assert len(compiles) == 3 * 3  # three members, one shape each, learned once


def test_a_template_holds_no_id_of_the_member_who_taught_it():
    """Bound to another member's values, a learned template answers that member's rows (nothing is baked in)."""
    org, neighbour_org = OrganizationFactory(), OrganizationFactory()
    one = make_channel(org, name="One")
    theirs = make_channel(neighbour_org, name="Theirs")
    ana = member(org, Role.AGENT, channels=[one], username="ana")
    neighbour = member(neighbour_org, Role.AGENT, channels=[theirs], username="neighbour")
    mine = make_conversation(one, "a", assignee=ana)
    next_door = make_conversation(theirs, "b", assignee=neighbour)
    make_conversation(theirs, "c")
    document = {"assignee": "me", "status": ["open"]}

    assert ids(selectors.conversation_rows(user=ana, document=document)) == [mine.pk]
    (template,) = [t for t in selectors._PAGE_TEMPLATES.values() if t is not None]

    context = filters.filter_context(neighbour)
    inputs = selectors._PageInputs(context.membership, neighbour, context, document, None, None, selectors.PAGE_SIZE)
    _, walk = selectors._walk_page(inputs)
    assert [row["id"] for row in template.rows(walk.values)] == [next_door.pk]


def test_a_shape_is_compiled_once_then_bound_to_new_values(compiles, django_assert_num_queries):
    org = OrganizationFactory()
    channel = make_channel(org)
    admin = member(org, Role.ADMIN)
    labels = [LabelFactory(organization=org) for _ in range(2)]
    now = timezone.now()
    conversations = [
        make_conversation(channel, f"c{i}", status="open", last_message_at=now - timedelta(minutes=i)) for i in range(7)
    ]
    for i, conversation in enumerate(conversations):
        ConversationLabel.objects.create(conversation=conversation, label=labels[i % 2])

    first = selectors.conversation_rows(user=admin, document={"labels": {"any": [labels[0].pk]}}, limit=2)
    assert len(compiles) == 3
    with django_assert_num_queries(2):  # the membership, the page (labels included)
        other = selectors.conversation_rows(user=admin, document={"labels": {"any": [labels[1].pk]}}, limit=2)
    assert len(compiles) == 3
    assert ids(first) == [conversations[0].pk, conversations[2].pk]
    assert ids(other) == [conversations[1].pk, conversations[3].pk]
    assert [label["id"] for label in other.rows[0]["labels"]] == [labels[1].pk]

    seen, cursor, document = [], None, {"labels": {"any": [labels[0].pk]}}
    while True:  # the cursor is another shape: learned on the second page, reused after
        page = selectors.conversation_rows(user=admin, document=document, cursor=cursor, limit=2)
        seen += ids(page)
        cursor = page.next_cursor
        if not cursor:
            break
    assert seen == [c.pk for c in conversations[::2]]
    assert len(compiles) == 6


def test_a_change_of_access_is_seen_at_once():
    org = OrganizationFactory()
    channel = make_channel(org)
    agent = member(org, Role.AGENT, channels=[channel])
    assigned = make_conversation(channel, "a", assignee=agent)
    queued = make_conversation(channel, "b")
    assert sorted(ids(selectors.conversation_rows(user=agent, document={}))) == sorted([assigned.pk, queued.pk])

    access = MemberAccess.objects.create(membership=agent.memberships.get(), only_assigned=True)
    assert ids(selectors.conversation_rows(user=agent, document={})) == [assigned.pk]
    no_queue = CustomRole.objects.create(organization=org, name="No queue", permissions=["manage_conversations"])
    access.only_assigned, access.custom_role = False, no_queue
    access.save()
    assert ids(selectors.conversation_rows(user=agent, document={})) == [assigned.pk]
    access.delete()
    agent.memberships.update(role=Role.ADMIN)
    agent.memberships.get().channels.clear()
    assert sorted(ids(selectors.conversation_rows(user=agent, document={}))) == sorted([assigned.pk, queued.pk])


def test_free_text_and_other_apps_conditions_are_compiled_each_time(compiles):
    org = OrganizationFactory()
    channel = make_channel(org)
    admin = member(org, Role.ADMIN)
    ana = make_conversation(channel, "a", name="Ana Putri", tracking_id="x")
    make_conversation(channel, "b", name="Budi")
    filters.register_condition("has_tracking", lambda value, ctx: ~Q(tracking_id="") if value else Q(tracking_id=""))
    try:
        for _ in range(2):
            assert ids(assert_same_page(admin, {"text": "Putri"})) == [ana.pk]
            assert ids(assert_same_page(admin, {"has_tracking": True})) == [ana.pk]
    finally:
        filters.unregister_condition("has_tracking")
    assert not selectors._PAGE_TEMPLATES
    assert len(compiles) == 4  # once per page, never learned


def test_every_built_in_condition_but_free_text_has_a_shape():
    """A built-in condition the walker does not know would silently lose the cache (a slow page, never a wrong one)."""
    samples = {
        "status": ["open"],
        "channel": [1],
        "channel_kind": ["whatsapp"],
        "labels": {"any": [1], "all": [2], "none": [3]},
        "assignee": "me",
        "team": "mine",
        "priority": ["high"],
        "campaign_id": True,
        "tracking_id": "trk",
        "created": {"after": "2026-01-01T00:00:00Z", "within_days": 3},
        "last_activity": {"before": "2026-01-01T00:00:00Z"},
        "waiting_minutes": 30,
        "unread": True,
    }
    assert set(samples) == set(filters._BUILTIN) - {"text"}  # other apps' conditions are compiled each time
    walk = filters.ShapeWalk(now=timezone.now())
    walk.document(filters.parse_filter({**samples, "or": [{"not": {"status": "open"}}, {}]}))
    assert walk.uses_my_teams
    with pytest.raises(filters.Uncacheable):
        filters.ShapeWalk(now=timezone.now()).document(filters.parse_filter({"text": "hello"}))


def build_world():
    """Two organizations, every kind of member, conversations with every attribute a filter reads."""
    rng = random.Random(7)
    now = timezone.now()
    org, neighbour_org = OrganizationFactory(), OrganizationFactory()
    channels = [make_channel(org, name=f"C{i}") for i in range(3)]
    channels[2].kind = "whatsapp"
    channels[2].save(update_fields=["kind"])
    teams = [Team.objects.create(organization=org, name=f"T{i}") for i in range(2)]
    labels = [LabelFactory(organization=org, name=f"label {i}") for i in range(3)]
    no_queue = CustomRole.objects.create(organization=org, name="No queue", permissions=["manage_conversations"])
    admin = member(org, Role.ADMIN, username="admin")
    supervisor = member(org, Role.SUPERVISOR, channels=[channels[1]], username="supervisor")
    agent = member(org, Role.AGENT, channels=channels[:2], username="agent")
    teamed = member(org, Role.AGENT, channels=channels[1:], username="teamed")
    only_mine = member(org, Role.AGENT, channels=channels, username="onlymine")
    queue_less = member(org, Role.AGENT, channels=channels, username="queueless")
    supervisor.memberships.get().teams.add(teams[0])
    teamed.memberships.get().teams.add(teams[1])
    MemberAccess.objects.create(membership=only_mine.memberships.get(), only_assigned=True)
    MemberAccess.objects.create(membership=queue_less.memberships.get(), custom_role=no_queue)
    neighbour = member(neighbour_org, Role.ADMIN, username="neighbour")
    users = [admin, supervisor, agent, teamed, only_mine, queue_less]
    for i in range(24):
        conversation = make_conversation(
            rng.choice(channels),
            f"cust-{i}",
            name=rng.choice(["", f"Customer {i}"]),
            status=rng.choice(["open", "pending", "snoozed", "resolved"]),
            priority=rng.choice(["none", "low", "high", "urgent"]),
            assignee=rng.choice([None, *users]),
            team=rng.choice([None, *teams]),
            campaign_id=rng.choice(["", "cmp-1"]),
            tracking_id=rng.choice(["", "trk-1"]),
            created_at=now - timedelta(days=rng.choice([0.5, 2, 5, 20])),
            last_message_at=now - timedelta(hours=rng.choice([0.2, 5, 30, 100])) - timedelta(seconds=i),
            last_inbound_at=rng.choice([None, now - timedelta(minutes=rng.choice([3, 40, 300]))]),
            outbound_since_inbound=rng.choice([0, 0, 2]),
        )
        if rng.random() < 0.7:
            message = MessageFactory(conversation=conversation)
            conversation.last_inbound_message_id = message.pk
            conversation.save(update_fields=["last_inbound_message_id"])
            for reader in users:
                if rng.random() < 0.4:
                    ConversationRead.objects.create(
                        user=reader, conversation=conversation, last_read_message_id=message.pk - rng.choice([0, 1])
                    )
        for label in labels:
            if rng.random() < 0.4:
                ConversationLabel.objects.create(conversation=conversation, label=label)
    make_conversation(make_channel(neighbour_org, name="Theirs"), "theirs", status="open")
    return {
        "members": [*users, neighbour],
        "users": users,
        "channels": [c.pk for c in channels],
        "teams": [t.pk for t in teams],
        "labels": [label.pk for label in labels],
    }


def test_reused_pages_equal_compiled_pages_for_any_member_and_filter():
    world = build_world()
    assert Conversation.objects.count() == 25

    @settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.sampled_from(world["members"]), documents(world), st.sampled_from([3, 50]))
    def check(user, document, limit):
        cursor = None
        for _ in range(2):  # the first page, then the next one (another shape: the cursor)
            page = assert_same_page(user, document, cursor=cursor, limit=limit)
            cursor = page.next_cursor
            if cursor is None:
                break

    check()
    assert any(template is not None for template in selectors._PAGE_TEMPLATES.values())
