"""WhatsApp numbers (validated before saving), Messenger pages (Facebook Login) and TikTok advertisers."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from inbox import events
from inbox.models import Channel
from integrations.connections.models import AdvertiserGrant, Connection, ConnectionAudit
from switchboard.crypto import decrypt_json
from tests.connections.conftest import callback_path, follow_provider

pytestmark = [pytest.mark.core, pytest.mark.django_db]

WHATSAPP = {"phone_number_id": "1060001", "waba_id": "2080001", "access_token": "wa-system-token"}


class Recorder:
    def __init__(self, *names: str) -> None:
        self.names, self.events = names, []

    def __enter__(self) -> list:
        for name in self.names:
            events.subscribe(name, self.events.append, phase=events.IN_TRANSACTION)
        return self.events

    def __exit__(self, *exc: object) -> None:
        events.unsubscribe(self.events.append)


def test_whatsapp_number_is_checked_with_meta_then_connected(owner_client, fakes):
    _, meta = fakes
    response = owner_client.post("/connections/whatsapp/", WHATSAPP)
    assert response.status_code == 302
    channel = Channel.objects.get(kind="whatsapp")
    assert channel.account_id == "1060001" and channel.name == "Batik House"
    stored = channel.credential.stored_values()
    assert stored["access_token"] == "wa-system-token" and stored["waba_id"] == "2080001"
    assert meta.subscribed["2080001"] is True  # the app subscribed to the account's webhooks
    assert Connection.objects.get(channel=channel).profile["display_phone_number"] == "+62 811 555 0101"
    page = owner_client.get("/connections/").content.decode()
    assert "Send and receive WhatsApp messages for this number" in page and "wa-system-token" not in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"access_token": "expired-token"}, "Meta did not accept these details"),
        ({"waba_id": "2089999"}, "does not belong to that WhatsApp Business account"),
        ({"phone_number_id": "not-digits"}, "Digits only"),
    ],
)
def test_whatsapp_details_meta_refuses_are_not_saved(owner_client, fakes, changes, message):
    response = owner_client.post("/connections/whatsapp/", {**WHATSAPP, **changes})
    assert response.status_code == 400 and message in response.content.decode()
    assert not Channel.objects.exists()


def test_messenger_login_lists_pages_then_connects_the_chosen_one(owner_client, fakes):
    _, meta = fakes
    location = owner_client.post("/connections/messenger/connect/")["Location"]
    assert "/v21.0/dialog/oauth?" in location and "pages_messaging" in location
    pick = owner_client.get(callback_path(follow_provider(location)))
    assert pick.status_code == 302
    page = owner_client.get(pick["Location"])
    body = page.content.decode()
    assert "Batik Outlet" in body and "page-token" not in body  # page tokens never reach the browser
    assert owner_client.post(pick["Location"], {"page_id": "5552"}).status_code == 302
    channel = Channel.objects.get(kind="messenger")
    assert (channel.account_id, channel.name) == ("5552", "Batik Outlet")
    assert channel.credential.stored_values()["access_token"] == "page-token-5552"
    assert meta.subscribed == {"5552": True}
    # the choice is single use too
    assert owner_client.post(pick["Location"], {"page_id": "5551"}).status_code == 400


def test_messenger_denial_ends_on_a_clear_page(owner_client, fakes):
    location = owner_client.post("/connections/messenger/connect/")["Location"]
    response = owner_client.get(callback_path(follow_provider(location, "Deny")))
    assert response.status_code == 400 and "You did not allow access" in response.content.decode()


def test_advertiser_authorization_then_choice_publishes_for_signals(owner_client, owner, fakes):
    tiktok, _ = fakes
    location = owner_client.post("/connections/tiktok_ads/connect/")["Location"]
    query = parse_qs(urlsplit(location).query)
    assert location.startswith(tiktok.base_url + "/portal/auth?") and query["app_id"] == ["fake-ads-app"]
    assert owner_client.get(callback_path(follow_provider(location))).status_code == 302
    grant = AdvertiserGrant.objects.get()
    assert grant.status == "awaiting_choice" and grant.advertiser_ids == ["7001", "7002"]
    assert grant.access_token() in tiktok.ads_tokens
    page = owner_client.get("/connections/").content.decode()
    assert "Report conversation events to TikTok" in page and grant.access_token() not in page
    with Recorder("advertiser.connected") as seen:
        response = owner_client.post(f"/connections/advertisers/{grant.pk}/choose/",
                                     {"advertiser_id": "7002", "event_set_id": "CSET123"})
    assert response.status_code == 302
    payload = seen[0].payload
    assert payload["grant_id"] == grant.pk and payload["advertiser_id"] == "7002"
    assert payload["event_set_id"] == "CSET123" and payload["advertiser_ids"] == ["7001", "7002"]
    assert decrypt_json(payload["access_token_encrypted"])["access_token"] == grant.access_token()
    assert seen[0].organization_id == owner.organization_id
    grant.refresh_from_db()
    assert grant.status == "active"


def test_advertiser_choice_outside_the_shared_list_is_refused(owner_client, fakes):
    location = owner_client.post("/connections/tiktok_ads/connect/")["Location"]
    owner_client.get(callback_path(follow_provider(location)))
    grant = AdvertiserGrant.objects.get()
    response = owner_client.post(f"/connections/advertisers/{grant.pk}/choose/",
                                 {"advertiser_id": "9999", "event_set_id": "CSET1"}, follow=True)
    assert "Pick one of the advertiser accounts" in response.content.decode()
    grant.refresh_from_db()
    assert grant.status == "awaiting_choice"


def test_advertiser_disconnect_revokes_at_tiktok_and_stops_signals(owner_client, owner, fakes):
    tiktok, _ = fakes
    location = owner_client.post("/connections/tiktok_ads/connect/")["Location"]
    owner_client.get(callback_path(follow_provider(location)))
    grant = AdvertiserGrant.objects.get()
    owner_client.post(f"/connections/advertisers/{grant.pk}/choose/", {"advertiser_id": "7001", "event_set_id": "C1"})
    token = grant.access_token()
    with Recorder("advertiser.disconnected") as seen:
        assert owner_client.post(f"/connections/advertisers/{grant.pk}/disconnect/").status_code == 302
    grant.refresh_from_db()
    assert grant.status == "disconnected" and grant.encrypted == "" and token not in tiktok.ads_tokens
    assert seen[0].payload == {"grant_id": grant.pk, "advertiser_ids": ["7001", "7002"], "scope": ["4", "5", "6"]}
    audit = ConnectionAudit.objects.get(action="advertiser_disconnected")
    assert audit.actor == owner.user and audit.detail["revoked_at_provider"] is True
