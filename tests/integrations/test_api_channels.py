"""The channels REST API: owners and admins create and change channels; secrets only ever come back masked."""

from __future__ import annotations

import logging

import pytest
from rest_framework.test import APIClient

from inbox.models import Channel, Role
from integrations.models import ChannelCredential
from tests.factories import OrganizationFactory, make_channel
from tests.integrations.factories import admin_of, agent_of, member

pytestmark = [pytest.mark.django_db, pytest.mark.core]

ACCESS_TOKEN = "EAAG-very-secret-access-token-1234"
APP_SECRET = "app-secret-abcdef-5678"


@pytest.fixture
def org():
    return OrganizationFactory()


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def whatsapp_payload(**overrides):
    payload = {
        "kind": "whatsapp",
        "name": "Shop WhatsApp",
        "account_id": "106540352242922",
        "app_secret": APP_SECRET,
        "verify_token": "my-verify-token-9999",
        "access_token": ACCESS_TOKEN,
        "extra": {"waba_id": "102290129340398"},
    }
    payload.update(overrides)
    return payload


def test_an_admin_creates_a_channel_and_gets_its_webhook_url_with_masked_secrets(org, caplog):
    caplog.set_level(logging.DEBUG)
    response = client_for(admin_of(org)).post("/api/v1/channels/", whatsapp_payload(), format="json")

    assert response.status_code == 201, response.content
    data = response.json()
    channel = Channel.objects.get(pk=data["id"])
    assert channel.organization == org and channel.kind == "whatsapp" and channel.account_id == "106540352242922"
    assert data["webhook_url"].endswith(f"/webhooks/whatsapp/{channel.pk}/")
    assert data["app_webhook_url"].endswith("/webhooks/whatsapp/")
    assert data["credentials"]["access_token"].endswith("1234") and ACCESS_TOKEN not in response.content.decode()
    assert APP_SECRET not in response.content.decode() and "my-verify-token-9999" not in response.content.decode()
    assert data["credentials"]["waba_id"] == "102290129340398"  # an id, not a secret
    # Stored encrypted, usable by the adapters, and never logged.
    assert ACCESS_TOKEN not in ChannelCredential.objects.get(channel=channel).encrypted
    assert channel.credential.secrets().access_token == ACCESS_TOKEN
    assert channel.credential.secrets().extra["waba_id"] == "102290129340398"
    assert ACCESS_TOKEN not in caplog.text and APP_SECRET not in caplog.text


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"kind": "telegram"}, "kind"),
        ({"name": ""}, "name"),
        ({"account_id": ""}, "account_id"),
        ({"extra": {"Bad Key": "x"}}, "extra"),
    ],
)
def test_invalid_input_is_a_400_with_the_field_named(org, overrides, field):
    response = client_for(admin_of(org)).post("/api/v1/channels/", whatsapp_payload(**overrides), format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Channel.objects.exists()


def test_the_same_provider_account_twice_is_a_400_on_account_id(org):
    client = client_for(admin_of(org))
    assert client.post("/api/v1/channels/", whatsapp_payload(), format="json").status_code == 201
    response = client.post("/api/v1/channels/", whatsapp_payload(name="Again"), format="json")
    assert response.status_code == 400
    assert "already uses" in response.json()["account_id"][0]


@pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR])
def test_agents_and_supervisors_cannot_create_change_or_disable(org, role):
    channel = make_channel(org)
    client = client_for(member(org, role))

    assert client.post("/api/v1/channels/", whatsapp_payload(), format="json").status_code == 403
    assert client.patch(f"/api/v1/channels/{channel.pk}/", {"name": "X"}, format="json").status_code in (403, 404)
    assert client.delete(f"/api/v1/channels/{channel.pk}/").status_code in (403, 404)
    channel.refresh_from_db()
    assert channel.name == "Sandbox" and channel.status == "active"


def test_the_list_is_scoped_to_the_channels_a_user_may_see(org):
    mine = make_channel(org, name="Mine")
    make_channel(org, name="Not given to the agent")
    make_channel(OrganizationFactory(), name="Another shop")
    agent = agent_of(org)
    agent.memberships.get().channels.add(mine)

    names = [c["name"] for c in client_for(agent).get("/api/v1/channels/").json()["results"]]
    assert names == ["Mine"]
    admin_names = {c["name"] for c in client_for(admin_of(org)).get("/api/v1/channels/").json()["results"]}
    assert admin_names == {"Mine", "Not given to the agent"}


def test_another_organizations_channel_is_a_404(org):
    theirs = make_channel(OrganizationFactory())
    client = client_for(admin_of(org))
    assert client.get(f"/api/v1/channels/{theirs.pk}/").status_code == 404
    assert client.patch(f"/api/v1/channels/{theirs.pk}/", {"name": "Mine now"}, format="json").status_code == 404


def test_patch_replaces_only_the_secrets_sent_and_renames(org):
    client = client_for(admin_of(org))
    channel_id = client.post("/api/v1/channels/", whatsapp_payload(), format="json").json()["id"]

    response = client.patch(
        f"/api/v1/channels/{channel_id}/", {"name": "Renamed", "access_token": "new-token-0000"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["name"] == "Renamed"
    assert response.json()["credentials"]["access_token"].endswith("0000")
    secrets = Channel.objects.get(pk=channel_id).credential.secrets()
    assert secrets.access_token == "new-token-0000" and secrets.app_secret == APP_SECRET


def test_patch_with_an_empty_secret_clears_it(org):
    client = client_for(admin_of(org))
    channel_id = client.post("/api/v1/channels/", whatsapp_payload(), format="json").json()["id"]
    response = client.patch(f"/api/v1/channels/{channel_id}/", {"verify_token": ""}, format="json")
    assert "verify_token" not in response.json()["credentials"]
    assert Channel.objects.get(pk=channel_id).credential.secrets().verify_token == ""


def test_delete_disables_and_keeps_history_and_patch_enables_again(org):
    channel = make_channel(org)
    client = client_for(admin_of(org))

    assert client.delete(f"/api/v1/channels/{channel.pk}/").status_code == 204
    channel.refresh_from_db()
    assert channel.status == "disabled"
    response = client.patch(f"/api/v1/channels/{channel.pk}/", {"status": "active"}, format="json")
    assert response.json()["status"] == "active"


def test_anonymous_requests_are_refused():
    assert APIClient().get("/api/v1/channels/").status_code in (401, 403)
