"""Switchboard as an OAuth provider: consent, PKCE, refresh, revocation, and scopes on the REST API."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from inbox.models import Role
from integrations.connections.models import AppAuthorization, ConnectionAudit
from tests.connections.provider_helpers import (
    CLIENT_SECRET,
    authorize_url,
    bearer,
    code_from,
    consent,
    exchange,
    make_application,
    obtain_tokens,
)
from tests.factories import MembershipFactory, OrganizationFactory, make_channel, make_conversation

pytestmark = [pytest.mark.core, pytest.mark.django_db]

READ_AND_HOOKS = "conversations:read webhooks:subscribe"


@pytest.fixture
def app():  # noqa: ANN201
    return make_application()


def test_consent_page_names_the_app_and_its_scopes_in_plain_words(owner_client, owner, app):
    page = owner_client.get(authorize_url(app, READ_AND_HOOKS, challenge="x" * 43)).content.decode()
    assert "Orders Sync wants to connect to your inbox" in page
    assert "Read your conversations and messages" in page and "Receive webhooks about new messages" in page
    assert f'<option value="{owner.organization_id}">Batik House</option>' in page
    assert "Approve" in page and "Deny" in page


def test_authorization_code_with_pkce_gives_tokens_bound_to_the_chosen_organization(owner_client, owner, app):
    other = MembershipFactory(user=owner.user, organization=OrganizationFactory(name="Second Shop"), role=Role.ADMIN)
    response, verifier = consent(owner_client, app, READ_AND_HOOKS, other.organization_id)
    assert response["Location"].startswith("https://orders.example/callback?")
    assert parse_qs(urlsplit(response["Location"]).query)["state"] == ["st-1"]
    code = code_from(response)
    assert exchange(Client(), app, code, "wrong-verifier-" + "x" * 40).status_code == 400  # PKCE enforced
    tokens = exchange(Client(), app, code, verifier).json()
    assert tokens["scope"] == READ_AND_HOOKS and tokens["refresh_token"]
    authorization = AppAuthorization.objects.get()
    assert authorization.organization_id == other.organization_id and authorization.user == owner.user
    assert ConnectionAudit.objects.filter(action="app_authorized", organization_id=other.organization_id,
                                          actor=owner.user).exists()
    assert exchange(Client(), app, code, verifier).status_code == 400  # a code works once


def test_authorization_without_pkce_is_refused(owner_client, app):
    response = owner_client.get(authorize_url(app, READ_AND_HOOKS, challenge=None))
    location = response.get("Location", "")
    assert response.status_code in (302, 400)
    assert "error=invalid_request" in location or "not valid" in response.content.decode()


def test_deny_answers_access_denied_and_creates_nothing(owner_client, owner, app):
    response, _ = consent(owner_client, app, READ_AND_HOOKS, owner.organization_id, allow=False)
    assert response.status_code == 302 and "error=access_denied" in response["Location"]
    assert not AppAuthorization.objects.exists()


def test_an_organization_the_user_does_not_manage_is_refused(client, app):
    agent = MembershipFactory(role=Role.AGENT)
    client.force_login(agent.user)
    response, _ = consent(client, app, READ_AND_HOOKS, agent.organization_id)
    assert response.status_code == 200 and "Pick an organization you own or administer" in response.content.decode()
    assert not AppAuthorization.objects.exists()


def test_api_honours_scopes(owner_client, owner, app):
    channel = make_channel(owner.organization)
    conversation = make_conversation(channel)
    tokens = obtain_tokens(owner_client, app, "conversations:read", owner.organization_id)
    api = Client()
    listed = api.get("/api/v1/conversations/", **bearer(tokens["access_token"]))
    assert listed.status_code == 200
    messages_url = f"/api/v1/conversations/{conversation.pk}/messages/"
    assert api.get(messages_url, **bearer(tokens["access_token"])).status_code == 200
    reply = api.post(messages_url, {"body": "hi"}, content_type="application/json", **bearer(tokens["access_token"]))
    assert reply.status_code == 403 and "conversations:write" in reply.json()["detail"]
    # An endpoint that declares no scopes is closed to third-party apps (deny by default) ...
    closed = api.get("/api/v1/canned-replies/", **bearer(tokens["access_token"]))
    assert closed.status_code == 403 and "not available to third-party apps" in closed.json()["detail"]
    # ... and the webhook API needs webhooks:subscribe.
    assert api.get("/api/v1/webhook-subscriptions/", **bearer(tokens["access_token"])).status_code == 403
    # Session users are not affected by scopes.
    assert owner_client.get("/api/v1/canned-replies/").status_code == 200
    assert AppAuthorization.objects.get().last_used_at is not None


def test_write_scope_allows_replying(owner_client, owner, app):
    conversation = make_conversation(make_channel(owner.organization))
    tokens = obtain_tokens(owner_client, app, "conversations:read conversations:write", owner.organization_id)
    reply = Client().post(f"/api/v1/conversations/{conversation.pk}/messages/", {"body": "Hello from the app"},
                          content_type="application/json", **bearer(tokens["access_token"]))
    assert reply.status_code == 201, reply.content


def test_refresh_rotates_and_a_spent_refresh_token_fails(owner_client, owner, app):
    tokens = obtain_tokens(owner_client, app, "conversations:read", owner.organization_id)
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": app.client_id,
               "client_secret": CLIENT_SECRET}
    renewed = Client().post("/oauth/token/", refresh)
    assert renewed.status_code == 200
    fresh = renewed.json()
    assert Client().get("/api/v1/conversations/", **bearer(fresh["access_token"])).status_code == 200
    assert Client().post("/oauth/token/", {**refresh, "refresh_token": fresh["refresh_token"]}).status_code == 200


def test_revoking_on_the_authorized_apps_page_kills_tokens_at_once(owner_client, owner, app):
    tokens = obtain_tokens(owner_client, app, READ_AND_HOOKS, owner.organization_id)
    page = owner_client.get("/connections/apps/").content.decode()
    assert "Orders Sync" in page and "Read your conversations and messages" in page and "Last used" in page
    authorization = AppAuthorization.objects.get()
    assert owner_client.post(f"/connections/apps/{authorization.pk}/revoke/").status_code == 302
    assert Client().get("/api/v1/conversations/", **bearer(tokens["access_token"])).status_code == 401
    refresh = Client().post("/oauth/token/", {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
                                              "client_id": app.client_id, "client_secret": CLIENT_SECRET})
    assert refresh.status_code == 400
    assert ConnectionAudit.objects.filter(action="app_revoked", actor=owner.user).exists()


def test_a_member_who_left_the_organization_loses_the_apps_access(owner_client, owner, app):
    tokens = obtain_tokens(owner_client, app, "conversations:read", owner.organization_id)
    owner.is_active = False
    owner.save(update_fields=["is_active"])
    assert Client().get("/api/v1/conversations/", **bearer(tokens["access_token"])).status_code == 401
