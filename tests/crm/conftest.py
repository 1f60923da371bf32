"""Fixtures for the CRM app: an organization connected to a fake HubSpot on loopback, and helpers to make a
customer write, an order event, a resolved conversation."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.utils import timezone

from inbox.models import Channel, Membership, Organization, Role
from inbox.services.messages import ReceiveResult, message_receive_inbound
from integrations.crm.models import HubSpotConnection
from integrations.crm.services.connection import hubspot_connect_private_app
from tests.factories import MembershipFactory, OrganizationFactory, make_channel
from tests.fakes.hubspot import FakeHubSpot

TOKEN = "pat-na1-test-token"
_ids = itertools.count(1)


@dataclass
class Shop:
    organization: Organization
    channel: Channel
    admin: Membership
    connection: HubSpotConnection

    def receive(self, text: str = "Hello", *, customer: str = "cust-1", name: str = "Ana Lima") -> ReceiveResult:
        return message_receive_inbound(
            channel=self.channel,
            customer_id=customer,
            external_id=f"m-{next(_ids)}",
            sent_at=timezone.now(),
            text=text,
            customer_name=name,
        )


def make_shop(*, connect: bool = True) -> Shop:
    organization = OrganizationFactory()
    channel = make_channel(organization)
    admin = MembershipFactory(organization=organization, role=Role.ADMIN)
    if connect:
        connection = hubspot_connect_private_app(organization=organization, user=admin.user, token=TOKEN)
    else:
        connection = HubSpotConnection.objects.create(organization=organization)
    return Shop(organization, channel, admin, connection)


@pytest.fixture(scope="session")
def _hubspot_server() -> Iterator[FakeHubSpot]:
    fake = FakeHubSpot(tokens=(TOKEN,))
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def hubspot(_hubspot_server: FakeHubSpot, settings) -> FakeHubSpot:
    """The session's fake, emptied and reconfigured; HUBSPOT_API_BASE points at it; retries are fast."""
    fake = _hubspot_server
    fake.reset()
    fake.tokens = {TOKEN}
    fake.unique_properties = {"email"}
    fake.search_delay, fake.search_delay_requests = 0.0, 0
    fake.burst_limit, fake.search_per_second = None, None
    settings.HUBSPOT_API_BASE = fake.base_url
    settings.HUBSPOT_AUTH_URL = f"{fake.base_url}/oauth/authorize"
    settings.CRM_RETRY_BASE_SECONDS = 0.05
    settings.HUBSPOT_MAX_WAIT_SECONDS = 5
    return fake


@pytest.fixture
def shop(db, hubspot: FakeHubSpot) -> Shop:
    return make_shop()
