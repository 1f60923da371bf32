"""The permission matrix: every role x every path, checked against the real responses.

The expectations are tables written by hand in ``tests/access/factories.py`` (which conversations and channels
each role sees) and below (which pages each role may open). A denied request is a 403 or 404; an object of
another organization is always a 404 (``test_url_coverage`` checks it answers exactly like a missing id).
"""

from __future__ import annotations

import json

import pytest
from django.test import Client

from inbox.permissions import mask_phone
from tests.access.factories import (
    CONVERSATION_KEYS,
    EXPECTED_CHANNELS,
    EXPECTED_CONVERSATIONS,
    OTHER_ORG_MARKER,
    ROLES,
    SEES_PII,
    make_world,
    order_for,
)

pytestmark = [pytest.mark.core, pytest.mark.django_db]

DENIED = {403, 404}
ACTIVE = [r for r in ROLES if r not in ("deactivated", "anonymous")]


@pytest.fixture
def world():
    return make_world()


def client_for(world, role: str) -> Client:
    client = Client()
    if role != "anonymous":
        client.force_login(world.user(role))
    return client


def assert_denied(response, role: str, *, api: bool) -> None:
    if role == "anonymous":
        if api:
            assert response.status_code in (401, 403), response.status_code
        else:
            assert response.status_code == 302 and "/login/" in response["Location"]
    else:
        assert response.status_code in DENIED, (role, response.status_code)
    body = response.content.decode(errors="replace")
    assert not any(f"Zed-{key}" in body for key in CONVERSATION_KEYS), "organization A's data in a denial"
    if role != "other_org":  # the marker is organization B's own data: only B's member may see it
        assert OTHER_ORG_MARKER not in body


def org_a_ids(world) -> set[int]:
    return {c.pk for c in world.conversations.values()}


def api_ids(response) -> set[int]:
    assert response.status_code == 200, response.content[:300]
    return {row["id"] for row in response.json()["results"]}


# --- lists, counts, search: exactly the conversations of the specification ----------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_lists_counts_and_search_show_exactly_what_the_role_may_see(world, role):
    client = client_for(world, role)
    expected = world.conversation_ids(EXPECTED_CONVERSATIONS[role])
    hidden_names = [f"Zed-{k}" for k in CONVERSATION_KEYS if k not in EXPECTED_CONVERSATIONS[role]]
    if role != "other_org":
        hidden_names.append(OTHER_ORG_MARKER)

    listing = client.get("/api/v1/conversations/", {"filter": json.dumps({})})
    counts = client.get("/api/v1/views/counts/")
    search = client.get("/api/v1/search/", {"q": "Zed"})
    page = client.get("/inbox/", {"view": "all"})
    if role in ("anonymous", "deactivated"):
        for response in (listing, counts, search):
            assert_denied(response, role, api=True)
        assert_denied(page, role, api=False)
        return
    mine = org_a_ids(world) if role != "other_org" else org_a_ids(world) | {world.other_conversation.pk}
    assert api_ids(listing) == expected | (mine - org_a_ids(world))
    assert counts.json()["counts"]["all"] == len(expected | (mine - org_a_ids(world)))
    found = {row["conversation_id"] for row in search.json()["messages"] + search.json()["contacts"]}
    assert found & org_a_ids(world) == expected
    assert page.status_code == 200
    html = page.content.decode()
    for key in EXPECTED_CONVERSATIONS[role]:
        assert f"Zed-{key}" in html
    for name in hidden_names:
        assert name not in html, f"{role} sees {name} in the inbox page"


# --- one conversation: page, detail, messages, reply, commerce panel -----------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_each_conversation_opens_only_for_roles_that_see_it(world, role):
    client = client_for(world, role)
    targets = {key: world.conversations[key] for key in CONVERSATION_KEYS} | {"other-org": world.other_conversation}
    for key, conversation in targets.items():
        allowed = key in EXPECTED_CONVERSATIONS[role] or (key, role) == ("other-org", "other_org")
        paths = [
            (f"/inbox/c/{conversation.pk}/", False),
            (f"/api/v1/conversations/{conversation.pk}/", True),
            (f"/api/v1/conversations/{conversation.pk}/messages/", True),
            (f"/api/v1/conversations/{conversation.pk}/notes/", True),
            (f"/commerce/conversations/{conversation.pk}/panel", False),
        ]
        for path, api in paths:
            response = client.get(path)
            if allowed:
                assert response.status_code == 200, (role, path, response.status_code)
            else:
                assert_denied(response, role, api=api)
                if role not in ("anonymous", "deactivated"):
                    assert response.status_code == 404, (role, path, "must not reveal that it exists")


@pytest.mark.parametrize("role", ROLES)
def test_replying_needs_the_conversation_and_never_reaches_a_hidden_one(world, role):
    client = client_for(world, role)
    for key in ("open", "other_channel"):
        conversation = world.conversations[key]
        response = client.post(
            f"/api/v1/conversations/{conversation.pk}/messages/", {"body": "hi"}, content_type="application/json"
        )
        if key in EXPECTED_CONVERSATIONS[role]:
            assert response.status_code in (200, 201), (role, key, response.content[:200])
        else:
            assert_denied(response, role, api=True)
            assert not conversation.messages.filter(body="hi").exists()


# --- channels and the simulator --------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_channels_api_and_simulator_follow_channel_access(world, role):
    client = client_for(world, role)
    expected = {world.channels[k].pk for k in EXPECTED_CHANNELS[role]}
    response = client.get("/api/v1/channels/")
    if role in ("anonymous", "deactivated"):
        assert_denied(response, role, api=True)
    else:
        assert api_ids(response) & {c.pk for c in world.channels.values()} == expected
        assert OTHER_ORG_MARKER not in response.content.decode()
    for key, channel in world.channels.items():
        simulator = client.get(f"/simulator/{channel.pk}/")
        if key in EXPECTED_CHANNELS[role]:
            assert simulator.status_code == 200, (role, key)
        else:
            assert_denied(simulator, role, api=False)


# --- pages by permission ----------------------------------------------------------------------------------------------

MANAGERS = {"owner", "admin", "other_org"}  # other_org is an admin of its own organization
PAGES: dict[str, set[str]] = {
    "/settings/members/": MANAGERS,
    "/settings/roles/": MANAGERS,
    "/settings/audit/": MANAGERS,
    "/channels/": MANAGERS,
    "/automation/rules/": MANAGERS,
    "/crm/": MANAGERS,
    "/signals/dashboard/": MANAGERS | {"supervisor"},
    "/commerce/orders/": set(ACTIVE),
    "/commerce/reservations/": set(ACTIVE),
    "/settings/security/": set(ACTIVE) | {"deactivated"},  # one's own login security: every account
}


@pytest.mark.parametrize("role", ROLES)
def test_settings_and_report_pages_open_only_for_roles_allowed_to_use_them(world, role):
    client = client_for(world, role)
    for path, allowed in PAGES.items():
        response = client.get(path)
        if role in allowed:
            assert response.status_code == 200, (role, path, response.status_code)
        else:
            assert_denied(response, role, api=False)


# --- orders and reservations ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_orders_follow_the_conversations_they_belong_to(world, role):
    owner = world.user("owner")
    orders = {key: order_for(world.conversations[key], owner) for key in ("open", "other_channel")}
    client = client_for(world, role)
    expected = {orders[k].pk for k in orders if k in EXPECTED_CONVERSATIONS[role]}
    response = client.get("/api/v1/orders/")
    if role in ("anonymous", "deactivated"):
        assert_denied(response, role, api=True)
    else:
        assert api_ids(response) == expected
    for key, order in orders.items():
        for path, api in ((f"/api/v1/orders/{order.pk}/", True), (f"/commerce/orders/{order.pk}/", False)):
            detail = client.get(path)
            if key in EXPECTED_CONVERSATIONS[role]:
                assert detail.status_code == 200, (role, path)
            else:
                assert_denied(detail, role, api=api)


# --- exports ---


@pytest.mark.parametrize("role", ROLES)
def test_csv_exports_are_for_managers_of_the_same_organization(world, role):
    from signals.models import KeywordList

    keywords = KeywordList.objects.create(organization=world.org, name="Prices")
    response = client_for(world, role).get(f"/signals/keywords/{keywords.pk}/export.csv")
    if role in ("owner", "admin", "supervisor"):  # signals' read-only pages are open to supervisors
        assert response.status_code == 200
    else:
        assert_denied(response, role, api=False)


@pytest.mark.parametrize("role", ROLES)
def test_metrics_are_for_operators_not_members(world, role):
    response = client_for(world, role).get("/metrics", REMOTE_ADDR="203.0.113.9")
    assert response.status_code in (302, 403, 404)


# --- personal data ---


@pytest.mark.parametrize("role", [r for r in ACTIVE if r != "other_org"])
def test_contact_phone_and_email_are_masked_for_roles_without_personal_data(world, role):
    client = client_for(world, role)
    key = sorted(EXPECTED_CONVERSATIONS[role])[0]
    conversation = world.conversations[key]
    contact = conversation.contact
    bodies = {
        "page": client.get(f"/inbox/c/{conversation.pk}/").content.decode(),
        "api": client.get(f"/api/v1/conversations/{conversation.pk}/").content.decode(),
        "search": client.get("/api/v1/search/", {"q": f"Zed-{key}"}).content.decode(),
    }
    for where, body in bodies.items():
        if role in SEES_PII:
            assert contact.phone in body or where != "page", (role, where)
        else:
            assert contact.phone not in body, (role, where)
            assert contact.email not in body, (role, where)
            assert contact.phone[-4:] not in body.replace(mask_phone(contact.phone), ""), (role, where)


@pytest.mark.parametrize("role", ROLES)
def test_orders_csv_export_holds_only_orders_of_visible_conversations(world, role):
    owner = world.user("owner")
    for key in CONVERSATION_KEYS:
        order_for(world.conversations[key], owner)
    response = client_for(world, role).get("/commerce/orders/", {"format": "csv"})
    if role in ("anonymous", "deactivated"):
        assert_denied(response, role, api=False)
        return
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    for key in CONVERSATION_KEYS:
        assert (f"Zed-{key}" in text) == (key in EXPECTED_CONVERSATIONS[role]), (role, key)
