"""The CRM pages as an admin uses them, and the contact panel the inbox sidebar includes."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest
from django.urls import reverse

from integrations.connections.models import WebhookSubscription
from integrations.crm.models import CrmSyncItem, HubSpotConnection
from integrations.crm.services.sync import crm_sync_run
from tests.crm.conftest import TOKEN, make_shop
from tests.factories import MembershipFactory

pytestmark = [pytest.mark.core, pytest.mark.django_db]


@pytest.fixture
def admin_client(client, shop):
    client.force_login(shop.admin.user)
    return client


def test_agents_cannot_open_the_crm_pages(client, shop):
    agent = MembershipFactory(organization=shop.organization)
    client.force_login(agent.user)
    for name in ("crm:settings", "crm:log", "crm:webhooks"):
        assert client.get(reverse(name)).status_code == 403


def test_connecting_with_a_private_app_token_shows_portal_and_scopes(client, db, hubspot):
    shop = make_shop(connect=False)
    client.force_login(shop.admin.user)
    page = client.get(reverse("crm:settings"))
    assert b"not connected" in page.content.lower() and b"Private app access token" in page.content

    refused = client.post(reverse("crm:settings"), {"action": "connect", "token": "wrong"})
    assert refused.status_code == 400 and b"HubSpot did not accept this token" in refused.content

    response = client.post(reverse("crm:settings"), {"action": "connect", "token": TOKEN}, follow=True)
    assert b"Connected" in response.content and b"424242" in response.content
    assert b"crm.objects.deals.write" in response.content
    connection = HubSpotConnection.objects.get(organization=shop.organization)
    assert TOKEN not in connection.encrypted and connection.credentials()["access_token"] == TOKEN
    assert TOKEN.encode() not in response.content

    client.post(reverse("crm:settings"), {"action": "disconnect"})
    connection.refresh_from_db()
    assert connection.status == "disconnected" and connection.encrypted == ""


def test_mappings_are_saved_and_bad_property_names_explained(admin_client, shop):
    data = {
        "action": "mapping", "field_first_name": "firstname", "field_last_name": "lastname", "field_email": "email",
        "field_phone": "mobilephone", "field_channels": "switchboard_channels", "lifecycle_new_contact": "subscriber",
        "deal_pipeline": "default", "stage_status": ["paid", "cancelled", ""],
        "stage_id": ["closedwon", "closedlost", ""], "include_transcript": "on",
    }  # fmt: skip
    assert admin_client.post(reverse("crm:settings"), data).status_code == 302
    connection = HubSpotConnection.objects.get(organization=shop.organization)
    assert connection.field_mapping["phone"] == "mobilephone" and connection.field_mapping["contact_url"] == ""
    assert connection.deal_stage_mapping == {"paid": "closedwon", "cancelled": "closedlost"}
    assert connection.include_transcript and connection.lifecycle_mapping["new_contact"] == "subscriber"

    bad = admin_client.post(reverse("crm:settings"), {**data, "field_email": "E-mail Address"})
    assert bad.status_code == 400 and b"not a HubSpot internal property name" in bad.content


def test_the_sync_log_shows_the_failure_and_its_retry_button_sends_again(
    admin_client, shop, hubspot, django_capture_on_commit_callbacks
):
    shop.receive("hi")
    hubspot.fail_next(
        400, body={"status": "error", "message": "Property firstname is read-only", "category": "VALIDATION_ERROR"}
    )
    crm_sync_run(organization_id=shop.organization.pk)
    page = admin_client.get(reverse("crm:log") + "?status=failed")
    assert b"Property firstname is read-only" in page.content and b"Retry" in page.content

    item = CrmSyncItem.objects.get()
    with django_capture_on_commit_callbacks() as enqueued:
        admin_client.post(reverse("crm:log-retry", args=[item.pk]))
    assert len(enqueued) == 1  # the sync task is enqueued on commit; run here as a worker would
    crm_sync_run(organization_id=shop.organization.pk)
    item.refresh_from_db()
    assert item.status == "succeeded" and len(hubspot.contacts) == 1
    assert b"Succeeded" in admin_client.get(reverse("crm:log")).content


def test_the_log_has_a_real_empty_state(client, db, hubspot):
    shop = make_shop(connect=False)
    client.force_login(shop.admin.user)
    assert b"Nothing was sent to HubSpot yet" in client.get(reverse("crm:log")).content


def test_adding_a_webhook_shows_the_secret_once_and_the_verification_snippet(admin_client, shop):
    page = admin_client.get(reverse("crm:webhooks"))
    assert b"No endpoint yet" in page.content and b"hmac.compare_digest" in page.content
    response = admin_client.post(reverse("crm:webhooks"), {"action": "create", "url": "https://crm.example.com/h",
                                                           "event_types": ["order.paid"]}, follow=True)  # fmt: skip
    endpoint = WebhookSubscription.objects.get(kind="crm")
    assert endpoint.secret().encode() in response.content
    assert endpoint.secret().encode() not in admin_client.get(reverse("crm:webhooks")).content
    bad = admin_client.post(reverse("crm:webhooks"), {"action": "create", "url": "not a url", "event_types": ["x"]})
    assert bad.status_code == 400


def test_the_contact_panel_shows_owner_and_stage_after_a_refresh(client, shop, hubspot):
    conversation = shop.receive("hi").message.conversation
    crm_sync_run(organization_id=shop.organization.pk)
    record = hubspot.contacts[0]
    hubspot.add_owner("77", "Budi", "Santoso", "budi@shop.example")
    hubspot.set_property("contacts", record.id, "hubspot_owner_id", "77")
    hubspot.set_property("contacts", record.id, "lifecyclestage", "opportunity")
    agent = MembershipFactory(organization=shop.organization, role="supervisor")
    client.force_login(agent.user)
    url = reverse("crm:contact-panel", args=[conversation.contact_id])

    response = client.post(url)
    assert response.status_code == 200
    assert b"Budi Santoso" in response.content and b"opportunity" in response.content
    assert b"<html" not in response.content  # a fragment to include, not a page

    outsider = MembershipFactory(role="admin")
    client.force_login(outsider.user)
    assert client.get(url).status_code == 404


def test_hubspot_oauth_connects_the_portal(client, db, hubspot, settings):
    settings.HUBSPOT_CLIENT_ID, settings.HUBSPOT_CLIENT_SECRET = "client-1", "secret-1"
    shop = make_shop(connect=False)
    client.force_login(shop.admin.user)
    start = client.get(reverse("crm:oauth-start"))
    assert start.status_code == 302 and start["Location"].startswith(hubspot.base_url + "/oauth/authorize?")
    consent = httpx.get(start["Location"], follow_redirects=False)  # the fake consents and redirects back
    callback = urlsplit(consent.headers["location"])
    response = client.get(f"{callback.path}?{callback.query}", follow=True)
    assert b"connected through OAuth" in response.content
    connection = HubSpotConnection.objects.get(organization=shop.organization)
    assert connection.auth_kind == "oauth" and connection.portal_id == "424242" and connection.is_active

    forged = client.get(reverse("crm:oauth-callback") + "?code=x&state=forged", follow=True)
    assert b"did not start here" in forged.content
