"""``inbox_conversation.label_ids`` (PostgreSQL) always equals the conversation's links, and the filter uses it.

Migration 0006's trigger keeps the array: labels applied and removed by the services or written directly, a
deleted label, a deleted link's conversation, and a conversation saved from a stale instance (the column is not
a model field, so Django never writes it). The filter tests the array alone under ``or``/``not`` and next to the
``EXISTS`` where the condition must hold for the whole document (``filters.CarriesLabel``).
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inbox import filters
from inbox.models import Conversation, ConversationLabel, Role
from inbox.services.labels import label_apply, label_bulk_apply, label_delete, label_remove
from tests.factories import OrganizationFactory, make_channel, make_conversation
from tests.inbox.factories import LabelFactory, member

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def world():
    org = OrganizationFactory()
    channel = make_channel(org)
    admin = member(org, Role.ADMIN)
    conversations = [make_conversation(channel, f"cust-{i}") for i in range(3)]
    labels = [LabelFactory(organization=org) for _ in range(3)]
    return org, admin, conversations, labels


def label_ids(conversation) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT label_ids FROM inbox_conversation WHERE id = %s", [conversation.pk])
        return sorted(cursor.fetchone()[0])


def links(conversation) -> list[int]:
    return sorted(ConversationLabel.objects.filter(conversation=conversation).values_list("label_id", flat=True))


def assert_in_sync(conversations) -> None:
    for conversation in conversations:
        assert label_ids(conversation) == links(conversation)


@pytest.fixture
def postgres():
    if connection.vendor != "postgresql":
        pytest.skip("label_ids is PostgreSQL's (SQLite filters read the links)")


@pytest.mark.services
def test_trigger_keeps_the_array_equal_to_the_links(postgres, world):
    _org, admin, (first, second, third), (a, b, c) = world
    assert_in_sync([first, second, third])
    label_apply(user=admin, conversation=first, label=a)
    label_apply(user=admin, conversation=first, label=b)
    label_apply(user=admin, conversation=first, label=a)  # already there: no duplicate
    assert label_ids(first) == sorted([a.pk, b.pk])
    label_bulk_apply(user=admin, conversation_ids=[second.pk, third.pk], label=c)
    ConversationLabel.objects.create(conversation=third, label=a)  # not through a service
    assert_in_sync([first, second, third])

    label_remove(user=admin, conversation=first, label=a)
    ConversationLabel.objects.filter(conversation=third, label=c).update(label=b)  # a link moved to another label
    assert_in_sync([first, second, third])
    assert label_ids(third) == sorted([a.pk, b.pk])

    stale = Conversation.objects.get(pk=second.pk)  # loaded before the next change
    label_apply(user=admin, conversation=second, label=a)
    stale.priority = "high"
    stale.save()  # every model field written: label_ids is not one of them
    assert label_ids(second) == sorted([a.pk, c.pk])

    label_delete(user=admin, label=a)  # the links go with the label (Django's cascade), and the array follows
    assert_in_sync([first, second, third])
    assert all(a.pk not in label_ids(x) for x in (first, second, third))


@pytest.mark.services
def test_filter_tests_the_array(postgres, world):
    org, admin, (first, second, third), (a, b, _c) = world
    ConversationLabel.objects.create(conversation=first, label=a)
    ConversationLabel.objects.create(conversation=second, label=b)
    context = filters.filter_context(admin)
    base = Conversation.objects.filter(organization=org)

    def found(document) -> set[int]:
        return set(filters.apply_filter(base, document, context=context).values_list("id", flat=True))

    def sql(document) -> str:
        return str(filters.apply_filter(base, document, context=context).query)

    top = {"labels": {"any": [a.pk]}}
    assert found(top) == {first.pk}
    assert "label_ids" in sql(top) and "EXISTS" in sql(top)  # the EXISTS lets a rare label start from its links
    either = {"or": [{"priority": ["urgent"]}, {"labels": {"any": [b.pk]}}]}
    assert found(either) == {second.pk}
    assert "label_ids" in sql(either) and "EXISTS" not in sql(either)  # no hashed subplan over the label's links
    assert found({"not": {"labels": {"all": [a.pk]}}}) == {second.pk, third.pk}
    assert found({"or": [{"labels": {"none": [a.pk]}}, {"status": ["resolved"]}]}) == {second.pk, third.pk}
    # The array's data, not the links, decides under ``or``: the two agree because the trigger keeps them equal.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE inbox_conversation SET label_ids = '{}' WHERE id = %s", [second.pk])
    assert found(either) == set()
    assert found({"labels": {"any": [b.pk]}}) == set()  # array AND EXISTS


def test_filter_reads_the_links_elsewhere(world):
    """SQLite (and any database but PostgreSQL): the EXISTS alone, with the same answers."""
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL reads label_ids (test above)")
    org, admin, (first, second, _third), (a, b, _c) = world
    ConversationLabel.objects.create(conversation=first, label=a)
    ConversationLabel.objects.create(conversation=second, label=b)
    context = filters.filter_context(admin)
    base = Conversation.objects.filter(organization=org)
    either = {"or": [{"priority": ["urgent"]}, {"labels": {"any": [b.pk]}}]}
    query = filters.apply_filter(base, either, context=context)
    assert "label_ids" not in str(query.query)
    assert set(query.values_list("id", flat=True)) == {second.pk}


@pytest.mark.services
def test_services_lock_the_conversation_before_its_links(postgres, world):
    """Row, then links, for every service: the trigger's order (links, then row) would deadlock a transaction that
    updated the row first (a message, then an automation's label) against an agent labelling the same conversation."""
    _org, admin, (first, _second, _third), (a, _b, _c) = world
    for service in (label_apply, label_remove):
        with CaptureQueriesContext(connection) as captured:
            service(user=admin, conversation=first, label=a)
        statements = [q["sql"] for q in captured.captured_queries]
        lock = next(i for i, sql in enumerate(statements) if "FOR UPDATE" in sql and "inbox_conversation" in sql)
        link = next(i for i, sql in enumerate(statements) if "inbox_conversationlabel" in sql)
        assert lock < link
