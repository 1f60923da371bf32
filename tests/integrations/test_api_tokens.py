"""Personal API tokens: made on a page or with ``manage.py create_api_token``, sent as ``Authorization: Token``."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import OrganizationFactory, make_channel, make_conversation
from tests.integrations.factories import admin_of, agent_of

pytestmark = [pytest.mark.django_db, pytest.mark.core]


@pytest.fixture
def org():
    organization = OrganizationFactory()
    make_conversation(make_channel(organization))
    return organization


def conversations_with(key: str):
    return APIClient().get("/api/v1/conversations/", HTTP_AUTHORIZATION=f"Token {key}")


def test_the_command_prints_a_token_that_works_on_the_api(org):
    user = admin_of(org)
    out, err = io.StringIO(), io.StringIO()

    call_command("create_api_token", user.username, stdout=out, stderr=err)

    key = out.getvalue().strip()
    assert len(key) == 40 and "secret" in err.getvalue()
    response = conversations_with(key)
    assert response.status_code == 200
    assert len(response.json()["results"]) == 1


def test_the_command_refuses_an_unknown_user():
    with pytest.raises(CommandError, match="No user named"):
        call_command("create_api_token", "nobody", stdout=io.StringIO())


def test_a_token_acts_with_its_users_permissions(org):
    agent = agent_of(org)  # no channel given: sees no conversation
    call_command("create_api_token", agent.username, stdout=(out := io.StringIO()), stderr=io.StringIO())
    assert conversations_with(out.getvalue().strip()).json()["results"] == []


def test_the_page_shows_a_new_token_once_and_revoking_it_gives_401(client, org):
    user = admin_of(org)
    client.force_login(user)

    created = client.post("/settings/api-tokens/", {"action": "create"})
    key = Token.objects.get(user=user).key
    assert created.status_code == 200 and key in created.content.decode()
    assert "no-store" in created["Cache-Control"]
    assert conversations_with(key).status_code == 200

    again = client.get("/settings/api-tokens/")
    assert key not in again.content.decode() and "You have a token" in again.content.decode()

    client.post("/settings/api-tokens/", {"action": "revoke"})
    assert not Token.objects.filter(user=user).exists()
    assert conversations_with(key).status_code == 401


def test_creating_again_replaces_the_old_token(client, org):
    user = admin_of(org)
    client.force_login(user)
    client.post("/settings/api-tokens/", {"action": "create"})
    old = Token.objects.get(user=user).key
    client.post("/settings/api-tokens/", {"action": "create"})
    assert conversations_with(old).status_code == 401
    assert conversations_with(Token.objects.get(user=user).key).status_code == 200


def test_a_wrong_token_is_401():
    assert conversations_with("0" * 40).status_code == 401


def test_the_page_needs_a_login(client):
    response = client.get("/settings/api-tokens/")
    assert response.status_code == 302 and "/login/" in response["Location"]
