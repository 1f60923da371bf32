"""Phone numbers and emails typed inside messages are masked for roles without contact details, on every path:
thread page, conversation list, API (messages, previews, search, notes), websocket, and canned replies."""

from __future__ import annotations

import re

import pytest
from channels.db import database_sync_to_async
from django.db import transaction
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from inbox import permissions, realtime
from inbox.models import Message
from inbox.selectors import message_as_dict
from inbox.services import canned as canned_services
from inbox.services import messages as message_services
from tests.access.factories import make_world
from tests.access.test_websocket import connect, drain
from tests.factories import MessageFactory

PHONE = "+62 812-3456-4321"
EMAIL = "ana.putri@example.com"
TEXT = f"Hi, call me on {PHONE} or write to {EMAIL}. Budget Rp 1.500.000 on 03-12-2026."


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


# --- the masking itself ------------------------------------------------------------------------------------------


@pytest.mark.core
def test_masking_keeps_the_text_readable_but_not_the_numbers():
    masked = permissions.mask_text_pii(TEXT)
    assert PHONE not in masked and EMAIL not in masked and digits(PHONE) not in digits(masked)
    assert masked.startswith("Hi, call me on •") and "Rp 1.500.000" in masked and "03-12-2026" in masked
    assert masked.endswith("321 or write to a•••@e•••. Budget Rp 1.500.000 on 03-12-2026.")
    assert permissions.mask_text_pii(masked) == masked  # masking twice changes nothing


_SEPARATORS = st.sampled_from([" ", "-", ".", "", "  "])
_FILLER = st.text(alphabet=st.characters(exclude_categories=("Nd", "Cs")), max_size=30)


@st.composite
def phone_numbers(draw) -> str:
    """Numbers as customers type them: +country or a leading 0, groups of 2-4 digits, odd separators."""
    groups = draw(st.lists(st.text("0123456789", min_size=2, max_size=4), min_size=2, max_size=4))
    prefix = draw(st.sampled_from(["+62 ", "+84", "+66-", "0", "(0", "+1 "]))
    number = prefix + draw(_SEPARATORS).join(groups)
    if prefix == "(0":
        number = number[:4] + ")" + number[4:]
    return number if sum(c.isdigit() for c in number) >= 8 else number + "12345"


@st.composite
def emails(draw) -> str:
    local = draw(st.from_regex(r"[a-z][a-z0-9._+-]{0,12}", fullmatch=True))
    domain = draw(st.from_regex(r"[a-z0-9-]{1,10}\.(com|co\.id|vn|th)", fullmatch=True))
    return f"{local}@{domain}"


@pytest.mark.core
@settings(max_examples=300, deadline=None)
@given(parts=st.lists(st.one_of(phone_numbers(), emails(), _FILLER), min_size=1, max_size=6))
def test_no_full_number_or_email_survives_masking(parts):
    text = " ".join(parts)
    masked = permissions.mask_text_pii(text)
    for part in parts:
        if re.fullmatch(r"[a-z][a-z0-9._+-]*@[a-z0-9-]+\.(com|co\.id|vn|th)", part):
            assert part not in masked
        elif sum(c.isdigit() for c in part) >= 8:
            assert digits(part) not in digits(masked), (text, masked)


# --- every path, for a masked viewer and a viewer with contact details ---------------------------------------------


@pytest.fixture
def world():
    world = make_world()
    conversation = world.conversations["open"]
    MessageFactory(conversation=conversation, body=TEXT)
    conversation.last_message_preview = TEXT[:160]
    conversation.save(update_fields=["last_message_preview"])
    return world


def bodies(world, role: str) -> dict[str, str]:
    client = Client()
    client.force_login(world.user(role))
    conversation = world.conversations["open"]
    return {
        "page": client.get(f"/inbox/c/{conversation.pk}/").content.decode(),
        "messages api": client.get(f"/api/v1/conversations/{conversation.pk}/messages/").content.decode(),
        "detail api": client.get(f"/api/v1/conversations/{conversation.pk}/").content.decode(),
        "list api": client.get("/api/v1/conversations/").content.decode(),
        "search api": client.get("/api/v1/search/", {"q": "call me"}).content.decode(),
    }


@pytest.mark.core
@pytest.mark.django_db
def test_a_masked_viewer_never_receives_numbers_typed_in_messages(world):
    for where, body in bodies(world, "custom_no_pii").items():
        assert "4321" not in body and EMAIL not in body, where
        assert "call me" in body or where == "detail api", where  # the rest of the message is still there
    for where, body in bodies(world, "agent").items():
        if where != "detail api":
            assert PHONE in body and EMAIL in body, where


@pytest.mark.core
@pytest.mark.django_db(transaction=True)
async def test_live_events_carry_masked_text_to_a_masked_viewer():
    world = await database_sync_to_async(make_world)()
    conversation = world.conversations["open"]
    received = {}
    for role in ("custom_no_pii", "agent"):
        communicator, connected, _ = await connect(world.user(role))
        assert connected
        await communicator.receive_json_from()

        def emit() -> None:
            message = MessageFactory(conversation=conversation, body=TEXT)
            with transaction.atomic():
                realtime.emit(
                    organization_id=conversation.organization_id,
                    name="message.received",
                    payload={"message": message_as_dict(message)},
                    channel_id=conversation.channel_id,
                )

        await database_sync_to_async(emit)()
        received[role] = str(await drain(communicator))
        await communicator.disconnect()
    assert "4321" not in received["custom_no_pii"] and EMAIL not in received["custom_no_pii"]
    assert "call me" in received["custom_no_pii"]
    assert PHONE in received["agent"]


# --- canned replies ---------------------------------------------------------------------------------------------


@pytest.mark.core
@pytest.mark.django_db
def test_a_canned_reply_with_the_phone_is_sent_in_full_but_never_shown_to_a_masked_agent(world):
    from tests.inbox.factories import CannedReplyFactory

    conversation = world.conversations["open"]
    contact = conversation.contact
    canned = CannedReplyFactory(
        organization=world.org, short_code="confirm", body="We will call {{contact.phone}} / {{ contact.email }}"
    )
    masked_agent = world.user("custom_no_pii")
    shown = canned_services.canned_reply_render(canned=canned, conversation=conversation, user=masked_agent)
    assert shown.text == "We will call {{contact.phone}} / {{ contact.email }}" and shown.missing == []
    client = Client()
    client.force_login(masked_agent)
    api = client.get(f"/api/v1/canned-replies/{canned.pk}/render/", {"conversation": conversation.pk}).json()
    assert contact.phone not in str(api) and contact.email not in str(api)

    full = canned_services.canned_reply_render(canned=canned, conversation=conversation, user=world.user("agent"))
    assert full.text == f"We will call {contact.phone} / {contact.email}"

    # The masked agent sends what the composer showed: the customer receives the real values...
    conversation.assignee = masked_agent
    conversation.save(update_fields=["assignee"])
    with transaction.atomic():
        sent = message_services.message_send_reply(conversation=conversation, user=masked_agent, text=shown.text)
    assert Message.objects.get(pk=sent.pk).body == f"We will call {contact.phone} / {contact.email}"
    # ... and the agent's own view of the sent message stays masked.
    answer = client.get(f"/api/v1/conversations/{conversation.pk}/messages/").content.decode()
    assert contact.phone not in answer and contact.email not in answer and "We will call" in answer
