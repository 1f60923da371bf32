"""Fixtures for the connections tests: fake TikTok and Meta OAuth servers on loopback, and an owner."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from inbox.models import Role
from tests.factories import MembershipFactory, OrganizationFactory
from tests.fakes import oauth


@pytest.fixture
def tiktok_fake() -> Iterator[oauth.FakeTikTokOAuth]:
    fake = oauth.FakeTikTokOAuth().start()
    yield fake
    fake.stop()


@pytest.fixture
def meta_fake() -> Iterator[oauth.FakeMetaOAuth]:
    fake = oauth.FakeMetaOAuth().start()
    yield fake
    fake.stop()


def point_settings_at(settings, tiktok_url: str, meta_url: str) -> None:  # noqa: ANN001
    settings.SANDBOX_OAUTH = False
    settings.TIKTOK_AUTH_BASE = tiktok_url
    settings.TIKTOK_API_BASE = tiktok_url
    settings.TIKTOK_ADS_AUTH_URL = f"{tiktok_url}/portal/auth"
    settings.TIKTOK_CLIENT_KEY, settings.TIKTOK_CLIENT_SECRET = oauth.CLIENT_KEY, oauth.CLIENT_SECRET
    settings.TIKTOK_ADS_APP_ID, settings.TIKTOK_ADS_SECRET = oauth.ADS_APP_ID, oauth.ADS_SECRET
    settings.META_APP_ID, settings.META_APP_SECRET = oauth.META_APP_ID, oauth.META_APP_SECRET
    settings.META_DIALOG_BASE = meta_url
    settings.META_GRAPH_API_BASE = meta_url
    settings.META_GRAPH_API_VERSION = "v21.0"
    settings.PROVIDER_HTTP_TIMEOUT = 3.0


@pytest.fixture
def fakes(settings, tiktok_fake, meta_fake):  # noqa: ANN001, ANN201
    point_settings_at(settings, tiktok_fake.base_url, meta_fake.base_url)
    return tiktok_fake, meta_fake


@pytest.fixture
def owner(db):  # noqa: ANN001, ANN201
    membership = MembershipFactory(organization=OrganizationFactory(name="Batik House"), role=Role.OWNER,
                                   user__username="sari", user__email="sari@example.com")
    return membership


@pytest.fixture
def owner_client(client, owner):  # noqa: ANN001, ANN201
    client.force_login(owner.user)
    return client


def follow_provider(url: str, choice: str = "Allow") -> str:
    """Open a fake provider's authorize page like a browser and return where its Allow/Deny link leads."""
    page = httpx.get(url, timeout=5).text
    link = re.search(rf'<a href="([^"]+)">{choice}</a>', page)
    assert link, page
    return link.group(1).replace("&amp;", "&")


def callback_path(url: str) -> str:
    """The path and query of a callback URL (the test client takes no scheme or host)."""
    return re.sub(r"^https?://[^/]+", "", url)
