"""End to end in Chromium: an owner connects a TikTok business account against the fake TikTok on loopback,
is refused after denying, retries, reconnects, sees a replayed callback refused, and disconnects."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from inbox.models import Channel, Role
from integrations.connections.models import Connection
from tests.browser.test_inbox_live import assert_no_serious_accessibility_violations, log_in
from tests.factories import MembershipFactory, OrganizationFactory
from tests.fakes import oauth
from tests.processes import daphne_server

pytestmark = [pytest.mark.browser, pytest.mark.core, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def tiktok() -> Iterator[oauth.FakeTikTokOAuth]:
    fake = oauth.FakeTikTokOAuth().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker, tiktok) -> Iterator[str]:  # noqa: ANN001
    """daphne configured like production, with TikTok's URLs pointing at the fake."""
    env = {
        "SANDBOX_OAUTH": "false", "TIKTOK_AUTH_BASE": tiktok.base_url, "TIKTOK_API_BASE": tiktok.base_url,
        "TIKTOK_ADS_AUTH_URL": f"{tiktok.base_url}/portal/auth", "TIKTOK_CLIENT_KEY": oauth.CLIENT_KEY,
        "TIKTOK_CLIENT_SECRET": oauth.CLIENT_SECRET, "TIKTOK_ADS_APP_ID": oauth.ADS_APP_ID,
        "TIKTOK_ADS_SECRET": oauth.ADS_SECRET,
    }
    with django_db_blocker.unblock(), daphne_server(**env) as url:
        yield url


def test_connect_deny_retry_reconnect_replay_and_disconnect(stack, browser_context, tiktok):
    owner = MembershipFactory(organization=OrganizationFactory(name="Batik House"), role=Role.OWNER,
                              user__username="sari")
    page = browser_context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    log_in(page, stack, owner.user.username)
    page.get_by_role("link", name="Connections").click()
    expect(page.get_by_role("heading", name="Connected accounts")).to_be_visible()
    assert_no_serious_accessibility_violations(page)

    # Deny at TikTok: a clear page, nothing connected, and a retry that works.
    page.get_by_role("button", name="Connect TikTok business account").click()
    expect(page.get_by_role("heading", name="Fake TikTok: allow Switchboard?")).to_be_visible()
    page.get_by_role("link", name="Deny").click()
    expect(page.get_by_role("heading", name="You did not allow access")).to_be_visible()
    assert_no_serious_accessibility_violations(page)
    assert not Channel.objects.exists()
    page.get_by_role("button", name="Try again").click()
    allow = page.get_by_role("link", name="Allow")
    callback_url = allow.get_attribute("href")
    allow.click()
    expect(page.locator(".flash")).to_contain_text("Connected Batik House")
    card = page.locator("[data-provider=tiktok]")
    expect(card).to_contain_text("@batikhouse")
    expect(card).to_contain_text("Read your TikTok conversations")
    expect(card).to_contain_text("by sari")
    assert_no_serious_accessibility_violations(page)
    connection = Connection.objects.get()
    assert connection.channel.account_id == "biz-open-1"
    assert tiktok.webhook_callbacks[-1]["event_type"] == "DIRECT_MESSAGE"

    # The same callback again (Back, reload, or an attacker replaying it) is refused.
    page.goto(callback_url)
    expect(page.get_by_role("heading", name="This authorization link was already used")).to_be_visible()

    # Reconnect: the same channel, a new token, recorded in the audit trail.
    page.goto(f"{stack}/connections/")
    page.get_by_role("button", name="Reconnect Batik House").click()
    page.get_by_role("link", name="Allow").click()
    expect(page.locator("table.audit")).to_contain_text("reconnected")
    assert Channel.objects.count() == 1

    # Disconnect: the card says so at once and the channel stops.
    page.get_by_role("button", name="Disconnect Batik House").click()
    expect(page.locator("[data-provider=tiktok] .connection-status")).to_contain_text("Disconnected")
    assert Channel.objects.get().status == "disabled"


def test_offline_demo_connects_tiktok_and_an_advertiser_through_the_sandbox(live_stack, browser_context):
    """The embedded demo's own authorization server (SANDBOX_OAUTH, on by default outside production)."""
    owner = MembershipFactory(organization=OrganizationFactory(name="Demo Shop"), role=Role.OWNER,
                              user__username="dewi")
    page = browser_context.new_page()
    log_in(page, live_stack, owner.user.username)
    page.goto(f"{live_stack}/connections/")
    expect(page.get_by_text("Sandbox mode")).to_be_visible()
    page.get_by_role("button", name="Connect TikTok business account").click()
    heading = page.get_by_role("heading", name="Allow Switchboard to access your TikTok business account?")
    expect(heading).to_be_visible()
    assert_no_serious_accessibility_violations(page)
    page.get_by_role("button", name="Allow").click()
    expect(page.locator("[data-provider=tiktok]")).to_contain_text("@sandboxshop")
    page.get_by_role("button", name="Connect TikTok for Business advertiser account").click()
    page.get_by_role("button", name="Allow").click()
    page.get_by_label("Message event set id").fill("DEMOSET1")
    page.get_by_role("button", name="Report to this advertiser").click()
    expect(page.locator(".flash")).to_contain_text("Signals will be reported")
    assert Connection.objects.get(channel__organization=owner.organization).status == "active"
