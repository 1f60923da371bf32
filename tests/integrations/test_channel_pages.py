"""Channel pages: admins list, add, inspect (masked secrets, webhook URLs), edit and disable; agents get a 403."""

from __future__ import annotations

import pytest

from inbox.models import Channel
from tests.factories import OrganizationFactory, make_channel
from tests.integrations.factories import InboundWebhookFactory, WebhookRejectionFactory, admin_of, agent_of

pytestmark = [pytest.mark.django_db, pytest.mark.core]

ACCESS_TOKEN = "page-access-token-secret-4321"


@pytest.fixture
def org():
    return OrganizationFactory()


@pytest.fixture
def admin_client(client, org):
    client.force_login(admin_of(org))
    return client


def test_the_list_shows_kind_status_webhook_url_last_delivery_and_rejections(admin_client, org):
    channel = make_channel(org, kind="messenger", name="Shop page", account_id="682498302938465", app_secret="s")
    routed = InboundWebhookFactory(provider="messenger", channel=None)
    routed.routed_channels.add(channel)  # an app-level delivery routed to this channel counts too
    WebhookRejectionFactory(channel=channel, count=4)
    WebhookRejectionFactory(channel=channel, count=3, reason="missing X-Hub-Signature-256 header")

    html = admin_client.get("/channels/").content.decode()

    assert "Shop page" in html and "Messenger" in html and "Active" in html
    assert f"/webhooks/messenger/{channel.pk}/" in html
    assert f'datetime="{routed.received_at.isoformat()}' in html or "ago" in html
    assert ">7<" in html  # rejected deliveries, all reasons


def test_an_empty_list_says_what_to_do_next(admin_client):
    html = admin_client.get("/channels/").content.decode()
    assert "No channels yet" in html and 'href="/channels/new/"' in html


def test_the_new_form_asks_for_the_providers_own_fields(admin_client):
    assert "Phone number id" in admin_client.get("/channels/new/?kind=whatsapp").content.decode()
    assert "WhatsApp Business Account id" in admin_client.get("/channels/new/?kind=whatsapp").content.decode()
    tiktok = admin_client.get("/channels/new/?kind=tiktok").content.decode()
    assert "TikTok business id" in tiktok and "Verify token" not in tiktok
    assert "Which kind of channel" in admin_client.get("/channels/new/").content.decode()


def test_adding_a_channel_shows_its_webhook_url_and_only_masked_secrets(admin_client, org):
    response = admin_client.post(
        "/channels/new/",
        {
            "kind": "whatsapp",
            "name": "Shop WhatsApp",
            "account_id": "106540352242922",
            "waba_id": "102290129340398",
            "app_secret": "app-secret-value-8765",
            "verify_token": "verify-me-please",
            "access_token": ACCESS_TOKEN,
        },
        follow=True,
    )

    channel = Channel.objects.get(organization=org)
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == f"/channels/{channel.pk}/"
    assert f"/webhooks/whatsapp/{channel.pk}/" in html and "/webhooks/whatsapp/</code>" in html
    assert "4321" in html and ACCESS_TOKEN not in html and "app-secret-value-8765" not in html
    assert "102290129340398" in html
    assert channel.credential.secrets().access_token == ACCESS_TOKEN


def test_form_errors_are_shown_next_to_their_fields(admin_client, org):
    make_channel(org, kind="tiktok", name="First", account_id="biz-1")
    response = admin_client.post("/channels/new/", {"kind": "tiktok", "name": "Second", "account_id": "biz-1"})
    assert response.status_code == 200
    assert "Another channel already uses this provider account." in response.content.decode()
    assert Channel.objects.count() == 1


def test_editing_keeps_secrets_left_empty(admin_client, org):
    channel = make_channel(org, kind="tiktok", name="TikTok", account_id="biz-1", access_token=ACCESS_TOKEN)

    edit_page = admin_client.get(f"/channels/{channel.pk}/edit/").content.decode()
    assert ACCESS_TOKEN not in edit_page
    admin_client.post(f"/channels/{channel.pk}/edit/", {"name": "TikTok shop", "account_id": "biz-1", "app_secret": ""})

    channel.refresh_from_db()
    assert channel.name == "TikTok shop" and channel.credential.secrets().access_token == ACCESS_TOKEN


def test_disable_and_enable(admin_client, org):
    channel = make_channel(org)
    page = admin_client.post(f"/channels/{channel.pk}/status/", {"action": "disable"}, follow=True).content.decode()
    assert "Disabled" in page and "conversations are kept" in page
    admin_client.post(f"/channels/{channel.pk}/status/", {"action": "enable"})
    channel.refresh_from_db()
    assert channel.status == "active"


@pytest.mark.parametrize("url", ["/channels/", "/channels/new/?kind=whatsapp", "/channels/webhooks/"])
def test_agents_get_a_403_page(client, org, url):
    client.force_login(agent_of(org))
    response = client.get(url)
    assert response.status_code == 403
    assert "owners and admins" in response.content.decode()


def test_agents_cannot_post_a_channel(client, org):
    client.force_login(agent_of(org))
    response = client.post("/channels/new/", {"kind": "sandbox", "name": "Sneaky"})
    assert response.status_code == 403 and not Channel.objects.exists()


def test_another_organizations_channel_is_a_404(admin_client):
    theirs = make_channel(OrganizationFactory())
    assert admin_client.get(f"/channels/{theirs.pk}/").status_code == 404
    assert admin_client.post(f"/channels/{theirs.pk}/status/", {"action": "disable"}).status_code == 404


def test_the_main_navigation_links_to_channels(admin_client):
    assert 'href="/channels/">Channels</a>' in admin_client.get("/channels/").content.decode()
