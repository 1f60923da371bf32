"""Property: the compiled filter returns exactly what a plain Python filter over the same rows returns."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inbox.filters import FilterContext, apply_filter
from inbox.models import Channel, Conversation, ConversationLabel, ConversationRead, Role, Team
from inbox.permissions import visible_conversations
from tests.factories import MessageFactory, OrganizationFactory, make_channel, make_conversation
from tests.inbox.factories import LabelFactory, member

pytestmark = [pytest.mark.django_db, pytest.mark.core]

NOW = timezone.now().replace(microsecond=0)
MOMENTS = [NOW - timedelta(days=d) for d in (0, 1, 3, 10, 40)]
STATUSES = ["open", "pending", "snoozed", "resolved"]
PRIORITIES = ["none", "low", "medium", "high", "urgent"]


def build_world():
    rng = random.Random(4)
    org = OrganizationFactory()
    channels = [make_channel(org, name=f"C{i}") for i in range(3)]
    Channel.objects.filter(pk=channels[2].pk).update(kind="whatsapp")
    me, ana, budi = (member(org, Role.ADMIN) for _ in range(3))
    teams = [Team.objects.create(organization=org, name=f"T{i}") for i in range(2)]
    me.memberships.get().teams.add(teams[0])
    labels = [LabelFactory(organization=org) for _ in range(3)]
    for i in range(16):
        conversation = make_conversation(
            rng.choice(channels),
            f"cust-{i}",
            status=rng.choice(STATUSES),
            priority=rng.choice(PRIORITIES),
            assignee=rng.choice([None, me, ana, budi]),
            team=rng.choice([None, *teams]),
            campaign_id=rng.choice(["", "cmp-1", "cmp-2"]),
            tracking_id=rng.choice(["", "trk-1"]),
            created_at=NOW - timedelta(days=rng.choice([0.5, 2, 5, 20, 60])),
            last_message_at=NOW - timedelta(hours=rng.choice([0.2, 5, 30, 100, 900])),
            last_inbound_at=rng.choice([None, NOW - timedelta(minutes=rng.choice([3, 40, 300]))]),
            outbound_since_inbound=rng.choice([0, 0, 2]),
        )
        if rng.random() < 0.7:
            message = MessageFactory(conversation=conversation)
            conversation.last_inbound_message_id = message.pk
            conversation.save(update_fields=["last_inbound_message_id"])
            if rng.random() < 0.5:
                read_up_to = message.pk - rng.choice([0, 1])
                ConversationRead.objects.create(user=me, conversation=conversation, last_read_message_id=read_up_to)
        for label in labels:
            if rng.random() < 0.4:
                ConversationLabel.objects.create(conversation=conversation, label=label)
    return {
        "me": me,
        "users": [me, ana, budi],
        "channels": [c.pk for c in channels],
        "teams": [t.pk for t in teams],
        "labels": [label.pk for label in labels],
        "context": FilterContext(
            user=me, organization_id=org.pk, now=NOW, membership=me.memberships.get(), fixed_team_ids=(teams[0].pk,)
        ),
    }


def rows_of(world):
    reads = {r.conversation_id: r.last_read_message_id for r in ConversationRead.objects.filter(user=world["me"])}
    rows = []
    for c in Conversation.objects.select_related("channel").prefetch_related("labels"):
        rows.append(
            {
                "c": c,
                "kind": c.channel.kind,
                "labels": {label.pk for label in c.labels.all()},
                "read": reads.get(c.pk),
            }
        )
    return rows


def matches(doc, row, world):
    c = row["c"]
    ctx = world["context"]
    for key, value in doc.items():
        if key == "and" and not all(matches(part, row, world) for part in value):
            return False
        if key == "or" and not any(matches(part, row, world) for part in value):
            return False
        if key == "not" and matches(value, row, world):
            return False
        if key == "status" and c.status not in value:
            return False
        if key == "channel" and c.channel_id not in value:
            return False
        if key == "channel_kind" and row["kind"] not in value:
            return False
        if key == "priority" and c.priority not in value:
            return False
        if key == "labels":
            if "any" in value and not row["labels"] & set(value["any"]):
                return False
            if "all" in value and not set(value["all"]) <= row["labels"]:
                return False
            if "none" in value and row["labels"] & set(value["none"]):
                return False
        if key == "assignee":
            expected = {
                "me": c.assignee_id == world["me"].pk,
                "nobody": c.assignee_id is None,
                "someone": c.assignee_id is not None,
            }.get(value, c.assignee_id == value)
            if not expected:
                return False
        if key == "team":
            expected = {"mine": c.team_id in ctx.team_ids, "nobody": c.team_id is None}.get(value, c.team_id == value)
            if not expected:
                return False
        if key in ("campaign_id", "tracking_id"):
            field = getattr(c, key)
            if not (
                bool(field) if isinstance(value, bool) and value else not field if value is False else field == value
            ):
                return False
        if key in ("created", "last_activity"):
            moment = c.created_at if key == "created" else c.last_message_at
            if "after" in value and not moment >= value["after"]:
                return False
            if "before" in value and not moment < value["before"]:
                return False
            if "within_days" in value and not moment >= NOW - timedelta(days=value["within_days"]):
                return False
        if key == "waiting_minutes" and not (
            c.outbound_since_inbound == 0
            and c.last_inbound_at is not None
            and c.last_inbound_at <= NOW - timedelta(minutes=value)
        ):
            return False
        if key == "unread":
            unread = c.last_inbound_message_id is not None and not (
                row["read"] is not None and row["read"] >= c.last_inbound_message_id
            )
            if unread != value:
                return False
    return True


def documents(world):
    def subset(values, min_size=1):
        return st.lists(st.sampled_from(values), min_size=min_size, max_size=len(values), unique=True)

    moment = st.sampled_from(MOMENTS).map(lambda m: m.isoformat())
    date_range = st.fixed_dictionaries(
        {}, optional={"after": moment, "before": moment, "within_days": st.integers(0, 50)}
    ).filter(bool)
    leaf = st.one_of(
        st.builds(lambda v: {"status": v}, subset(STATUSES)),
        st.builds(lambda v: {"channel": v}, subset(world["channels"], 0)),
        st.builds(lambda v: {"channel_kind": v}, subset(["sandbox", "whatsapp", "tiktok"])),
        st.builds(lambda v: {"priority": v}, subset(PRIORITIES)),
        st.builds(
            lambda v: {"labels": v},
            st.fixed_dictionaries(
                {},
                optional={
                    "any": subset(world["labels"], 0),
                    "all": subset(world["labels"], 0),
                    "none": subset(world["labels"], 0),
                },
            ).filter(bool),
        ),
        st.builds(
            lambda v: {"assignee": v}, st.sampled_from(["me", "nobody", "someone", *[u.pk for u in world["users"]]])
        ),
        st.builds(lambda v: {"team": v}, st.sampled_from(["mine", "nobody", *world["teams"]])),
        st.builds(lambda v: {"campaign_id": v}, st.sampled_from([True, False, "cmp-1", "cmp-9"])),
        st.builds(lambda v: {"tracking_id": v}, st.sampled_from([True, False, "trk-1"])),
        st.builds(lambda v: {"created": v}, date_range),
        st.builds(lambda v: {"last_activity": v}, date_range),
        st.builds(lambda v: {"waiting_minutes": v}, st.integers(0, 400)),
        st.builds(lambda v: {"unread": v}, st.booleans()),
    )

    def merge(parts):
        merged = {}
        for part in parts:
            merged.update(part)
        return merged

    return st.recursive(
        st.lists(leaf, min_size=0, max_size=3).map(merge),
        lambda children: st.one_of(
            st.builds(lambda v: {"or": v}, st.lists(children, min_size=1, max_size=3)),
            st.builds(lambda v: {"and": v}, st.lists(children, min_size=1, max_size=3)),
            st.builds(lambda v: {"not": v}, children),
            st.builds(lambda a, b: {**a, **b}, children, st.lists(leaf, max_size=2).map(merge)),
        ),
        max_leaves=6,
    )


def test_compiled_filter_equals_python_filter():
    world = build_world()
    rows = rows_of(world)
    base = visible_conversations(world["me"])
    assert world["context"].team_ids == world["context"].fixed_team_ids

    @settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(documents(world))
    def check(document):
        from inbox.filters import parse_filter

        cleaned = parse_filter(document)
        expected = sorted(row["c"].pk for row in rows if matches(cleaned, row, world))
        actual = sorted(apply_filter(base, document, context=world["context"]).values_list("id", flat=True))
        assert actual == expected, document

    check()
