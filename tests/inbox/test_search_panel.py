"""The inbox search panel's API: snippets with highlights, channel/contact/time, scoped to what the user may see;
and the pane endpoint used to switch conversations in place."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from inbox.models import ConversationRead, Role
from inbox.search import snippet
from tests.factories import MessageFactory, OrganizationFactory, make_channel, make_conversation
from tests.inbox.factories import member

pytestmark = [pytest.mark.django_db, pytest.mark.core]


def test_snippet_is_a_window_around_the_match_with_its_ranges():
    body = "word " * 60 + "the batik sarong is ready, batik again " + "tail " * 40
    shown, ranges = snippet(body, "Batik")

    assert shown.startswith("…") and shown.endswith("…")
    assert len(shown) <= 122
    assert [shown[a:b] for a, b in ranges] == ["batik", "batik"]


def test_snippet_of_text_without_the_word_starts_at_the_beginning():
    assert snippet("hello there", "zzz") == ("hello there", [])


@pytest.fixture
def world():
    org = OrganizationFactory()
    mine, theirs = make_channel(org, name="Mine"), make_channel(org, name="Theirs")
    agent = member(org, Role.AGENT, channels=[mine], username="ana")
    client = APIClient()
    client.force_authenticate(agent)
    return {"org": org, "mine": mine, "theirs": theirs, "agent": agent, "client": client}


def test_search_answers_highlighted_messages_and_contacts_the_user_may_see(world):
    seen = make_conversation(world["mine"], "c1", name="Dewi Batik")
    hidden = make_conversation(world["theirs"], "c2", name="Batik Secret")
    MessageFactory(conversation=seen, body="Is the blue batik available in size M?")
    MessageFactory(conversation=hidden, body="batik for the hidden channel")
    other_org_channel = make_channel(OrganizationFactory())
    MessageFactory(conversation=make_conversation(other_org_channel, "c3"), body="batik elsewhere")

    answer = world["client"].get("/api/v1/search/", {"q": "batik"}).json()

    assert [m["conversation_id"] for m in answer["messages"]] == [seen.pk]
    hit = answer["messages"][0]
    assert hit["contact_name"] == "Dewi Batik" and hit["channel_kind"] == seen.channel.kind and hit["created_at"]
    assert [hit["snippet"][a:b] for a, b in hit["highlights"]] == ["batik"]
    assert [c["conversation_id"] for c in answer["contacts"]] == [seen.pk]
    assert answer["contacts"][0]["last_message_at"]


def test_search_refuses_an_empty_or_huge_query(world):
    assert world["client"].get("/api/v1/search/", {"q": "  "}).status_code == 400
    assert world["client"].get("/api/v1/search/", {"q": "x" * 201}).status_code == 400


def test_the_pane_endpoint_renders_the_conversation_marks_it_read_and_hides_others(world):
    seen = make_conversation(world["mine"], "c1", name="Dewi")
    message = MessageFactory(conversation=seen, body="hello from Dewi")
    seen.last_inbound_message_id = message.pk
    seen.save()
    hidden = make_conversation(world["theirs"], "c2", name="Secret")
    client = Client()
    client.force_login(world["agent"])

    pane = client.get(f"/inbox/c/{seen.pk}/pane/")

    assert pane.status_code == 200
    assert "hello from Dewi" in pane.content.decode()
    assert pane["Cache-Control"] == "no-store"
    assert ConversationRead.objects.get(conversation=seen, user=world["agent"]).last_read_message_id == message.pk
    assert client.get(f"/inbox/c/{hidden.pk}/pane/").status_code == 404
