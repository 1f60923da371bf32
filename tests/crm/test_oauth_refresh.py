"""HubSpot connected through OAuth: short-lived access tokens renewed with the refresh token, ahead of expiry or
after a 401, by one process at a time; a refused refresh stops sync and says why on the Connections page."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from integrations.crm.hubspot import oauth
from integrations.crm.models import CrmSyncItem, HubSpotConnection
from integrations.crm.services.connection import hubspot_client, hubspot_connect_oauth
from integrations.crm.services.sync import crm_sync_run
from tests.connections.concurrency import at_once
from tests.crm.conftest import Shop, make_shop
from tests.fakes.hubspot import FakeHubSpot

pytestmark = [pytest.mark.core]


@pytest.fixture
def oauth_settings(settings, hubspot: FakeHubSpot) -> FakeHubSpot:
    settings.HUBSPOT_CLIENT_ID, settings.HUBSPOT_CLIENT_SECRET = "client-1", "secret-1"
    settings.HUBSPOT_REFRESH_AHEAD_SECONDS = 0
    return hubspot


def connect_oauth(hubspot: FakeHubSpot) -> Shop:
    """An organization whose HubSpot portal was connected through OAuth (the fake consents at once)."""
    shop = make_shop(connect=False)
    hubspot.oauth_codes["code-1"] = f"oauth-token-{shop.organization.pk}"
    tokens, info = oauth.exchange_code(code="code-1", redirect_uri="http://testserver/crm/hubspot/oauth/callback")
    shop.connection = hubspot_connect_oauth(organization=shop.organization, user=shop.admin.user, tokens=tokens,
                                            info=info)  # fmt: skip
    return shop


def expire(hubspot: FakeHubSpot, shop: Shop | None = None) -> None:
    """The access token dies at HubSpot; with ``shop``, Switchboard's stored expiry says so too (else our clock
    still believes it valid and only HubSpot's 401 tells)."""
    hubspot.expire_tokens()
    if shop is not None:
        connection = HubSpotConnection.objects.get(pk=shop.connection.pk)
        connection.store_credentials(**{**connection.credentials(), "expires_at": time.time() - 1})
        connection.save()


@pytest.mark.django_db
def test_sync_continues_across_an_expiry_with_one_refresh(oauth_settings, hubspot):
    shop = connect_oauth(hubspot)
    shop.receive("Hello", customer="c-1", name="Ana Lima")
    crm_sync_run(organization_id=shop.organization.pk)
    expire(hubspot, shop)
    shop.receive("Hi", customer="c-2", name="Budi Santoso")
    crm_sync_run(organization_id=shop.organization.pk)
    assert sorted(r.properties.get("firstname") for r in hubspot.contacts) == ["Ana", "Budi"]
    assert hubspot.refreshes == 1
    assert set(CrmSyncItem.objects.values_list("status", flat=True)) == {"succeeded"}


@pytest.mark.django_db
def test_a_401_renews_the_token_and_retries_the_request(oauth_settings, hubspot):
    """HubSpot decides when a token dies: a token we believe valid but HubSpot refuses is renewed once."""
    shop = connect_oauth(hubspot)
    expire(hubspot)  # our stored expiry still says valid
    shop.receive("Hello", customer="c-1", name="Ana Lima")
    crm_sync_run(organization_id=shop.organization.pk)
    assert len(hubspot.contacts) == 1 and hubspot.refreshes == 1
    assert CrmSyncItem.objects.get().status == "succeeded"


@pytest.mark.django_db(transaction=True)
def test_two_processes_needing_a_token_at_once_refresh_it_once(oauth_settings, hubspot):
    shop = connect_oauth(hubspot)
    record = hubspot.add_contact({"email": "ana@example.com", "firstname": "Ana"})
    expire(hubspot, shop)
    hubspot.refresh_delay = 0.5  # the first refresh is still in flight when the second caller needs a token
    answers: list[str] = []

    def worker() -> None:
        connection = HubSpotConnection.objects.get(pk=shop.connection.pk)  # each its own row, like a process
        with hubspot_client(connection) as client:
            answers.append(client.object_get("contacts", record.id, ["email"])["properties"]["email"])

    at_once(worker)
    assert answers == ["ana@example.com", "ana@example.com"]
    assert hubspot.refreshes == 1
    assert HubSpotConnection.objects.get(pk=shop.connection.pk).status == "connected"


@pytest.mark.django_db
def test_a_refused_refresh_stops_sync_and_the_connections_page_says_why(oauth_settings, hubspot, client):
    shop = connect_oauth(hubspot)
    client.force_login(shop.admin.user)
    assert b"HubSpot" in client.get(reverse("connections:index")).content
    hubspot.refresh_refused = True  # the app was uninstalled from the portal
    expire(hubspot, shop)
    shop.receive("Hello", customer="c-1", name="Ana Lima")
    crm_sync_run(organization_id=shop.organization.pk)

    connection = HubSpotConnection.objects.get(pk=shop.connection.pk)
    assert connection.status == "needs_reauthorization"
    assert "refused to renew the access token" in connection.last_error
    item = CrmSyncItem.objects.get()
    assert item.status == "retrying" and not hubspot.contacts  # kept, sent after reconnecting
    page = client.get(reverse("connections:index")).content.decode()
    assert "Sync to HubSpot is stopped" in page and "refused to renew the access token" in page
    assert reverse("crm:settings") in page
    # Stopped means stopped: another run sends nothing and asks HubSpot nothing.
    requests_before = len(hubspot.requests)
    crm_sync_run(organization_id=shop.organization.pk)
    assert len(hubspot.requests) == requests_before
