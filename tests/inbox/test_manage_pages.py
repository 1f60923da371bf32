"""The label and canned reply management pages: admins manage, agents cannot, other tenants' rows are missing."""

from __future__ import annotations

import pytest
from django.test import Client

from inbox.models import CannedReply, ConversationLabel, Label, Role
from tests.factories import OrganizationFactory, make_channel, make_conversation
from tests.inbox.factories import CannedReplyFactory, LabelFactory, member

pytestmark = [pytest.mark.django_db, pytest.mark.core]


@pytest.fixture
def world():
    org = OrganizationFactory()
    channel = make_channel(org)
    admin = member(org, Role.ADMIN, username="boss")
    agent = member(org, Role.AGENT, channels=[channel], username="ana")
    other_org = OrganizationFactory()
    return {"org": org, "channel": channel, "admin": admin, "agent": agent, "other_org": other_org}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_labels_page_lists_labels_with_how_many_conversations_carry_each(world):
    vip = LabelFactory(organization=world["org"], name="VIP")
    LabelFactory(organization=world["org"], name="Unused")
    LabelFactory(organization=world["other_org"], name="Elsewhere")
    for i in range(3):
        conversation = make_conversation(world["channel"], f"c-{i}")
        ConversationLabel.objects.create(conversation=conversation, label=vip)

    page = client_for(world["admin"]).get("/inbox/labels/")

    assert page.status_code == 200
    rows = {label.name: label.usage for label in page.context["labels"]}
    assert rows == {"VIP": 3, "Unused": 0}
    assert "Elsewhere" not in page.content.decode()


def test_admin_creates_edits_and_deletes_a_label_after_confirming(world):
    client = client_for(world["admin"])
    response = client.post("/inbox/labels/", {"name": "Refund", "colour": "#AA0000", "description": "Money back"})
    assert response.status_code == 302
    label = Label.objects.get(organization=world["org"], name="Refund")
    assert (label.colour, label.description) == ("#aa0000", "Money back")

    client.post("/inbox/labels/", {"label": label.pk, "name": "Refunds", "colour": "#00aa00", "description": ""})
    label.refresh_from_db()
    assert (label.name, label.colour, label.description) == ("Refunds", "#00aa00", "")

    conversation = make_conversation(world["channel"], "c-1")
    ConversationLabel.objects.create(conversation=conversation, label=label)
    confirm = client.get(f"/inbox/labels/{label.pk}/delete/")
    assert confirm.status_code == 200
    assert "1 conversation" in confirm.content.decode()
    assert Label.objects.filter(pk=label.pk).exists()  # asking is not deleting

    assert client.post(f"/inbox/labels/{label.pk}/delete/").status_code == 302
    assert not Label.objects.filter(pk=label.pk).exists()
    assert not ConversationLabel.objects.filter(conversation=conversation).exists()


def test_a_bad_label_is_refused_with_the_reason_and_the_typed_text_kept(world):
    LabelFactory(organization=world["org"], name="VIP")
    client = client_for(world["admin"])

    duplicate = client.post("/inbox/labels/", {"name": "vip", "colour": "#123456", "description": "typed"})
    bad_colour = client.post("/inbox/labels/", {"name": "New", "colour": "red", "description": ""})

    assert duplicate.status_code == 400
    assert "already exists" in duplicate.content.decode()
    assert 'value="typed"' in duplicate.content.decode()
    assert bad_colour.status_code == 400
    assert "#rrggbb" in bad_colour.content.decode()
    assert Label.objects.filter(organization=world["org"]).count() == 1


def test_agents_cannot_manage_labels_or_canned_replies(world):
    label = LabelFactory(organization=world["org"], name="VIP")
    canned = CannedReplyFactory(organization=world["org"], short_code="hi", created_by=world["admin"])
    client = client_for(world["agent"])

    assert client.get("/inbox/labels/").status_code == 403
    assert client.post("/inbox/labels/", {"name": "Sneaky", "colour": "#123456"}).status_code == 403
    assert client.post(f"/inbox/labels/{label.pk}/delete/").status_code == 403
    assert client.get("/inbox/canned-replies/").status_code == 403
    assert client.post("/inbox/canned-replies/", {"short_code": "x", "body": "y"}).status_code == 403
    assert client.post(f"/inbox/canned-replies/{canned.pk}/delete/").status_code == 403
    assert Label.objects.filter(organization=world["org"]).count() == 1
    assert CannedReply.objects.filter(organization=world["org"]).count() == 1


def test_another_organizations_rows_answer_like_missing_ones(world):
    theirs = LabelFactory(organization=world["other_org"], name="Theirs")
    their_reply = CannedReplyFactory(organization=world["other_org"], short_code="theirs")
    client = client_for(world["admin"])

    assert client.get(f"/inbox/labels/{theirs.pk}/delete/").status_code == 404
    assert client.post(f"/inbox/labels/{theirs.pk}/delete/").status_code == 404
    assert (
        client.post("/inbox/labels/", {"label": theirs.pk, "name": "Mine now", "colour": "#123456"}).status_code == 404
    )
    assert client.post(f"/inbox/canned-replies/{their_reply.pk}/delete/").status_code == 404
    assert (
        client.post("/inbox/canned-replies/", {"canned": their_reply.pk, "short_code": "x", "body": "y"}).status_code
        == 404
    )
    assert Label.objects.get(pk=theirs.pk).name == "Theirs"
    assert CannedReply.objects.filter(pk=their_reply.pk).exists()


def test_admin_manages_canned_replies_and_previews_variables(world):
    client = client_for(world["admin"])
    body = "Hi {{contact.name}}, this is {{agent.name}} about order {{order.number}}."

    preview = client.post("/inbox/canned-replies/", {"short_code": "hello", "body": body, "action": "preview"})
    assert preview.status_code == 200
    assert "Hi Ana Putri, this is boss about order 1042." in preview.content.decode()
    assert not CannedReply.objects.filter(organization=world["org"]).exists()  # a preview saves nothing

    assert client.post("/inbox/canned-replies/", {"short_code": "/hello", "body": body}).status_code == 302
    canned = CannedReply.objects.get(organization=world["org"])
    assert canned.short_code == "hello"
    listing = client.get("/inbox/canned-replies/").content.decode()
    assert "/hello" in listing and "Hi Ana Putri" in listing

    client.post("/inbox/canned-replies/", {"canned": canned.pk, "short_code": "hello2", "body": "Thanks!"})
    canned.refresh_from_db()
    assert (canned.short_code, canned.body) == ("hello2", "Thanks!")

    assert "/hello2" in client.get(f"/inbox/canned-replies/{canned.pk}/delete/").content.decode()
    assert client.post(f"/inbox/canned-replies/{canned.pk}/delete/").status_code == 302
    assert not CannedReply.objects.filter(pk=canned.pk).exists()


def test_an_unknown_variable_is_refused_and_shown_in_the_preview(world):
    client = client_for(world["admin"])
    body = "Total {{order.total}}"

    preview = client.post("/inbox/canned-replies/", {"short_code": "total", "body": body, "action": "preview"})
    saved = client.post("/inbox/canned-replies/", {"short_code": "total", "body": body})

    assert "Unknown variables: order.total" in preview.content.decode()
    assert saved.status_code == 400
    assert "Unknown variable" in saved.content.decode()
    assert "Total {{order.total}}" in saved.content.decode()  # the typed text is kept
    assert not CannedReply.objects.filter(organization=world["org"]).exists()
