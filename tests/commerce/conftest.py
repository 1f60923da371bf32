"""Fixtures for commerce: a shop with a sandbox channel, a supervisor, an agent with access, one conversation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from inbox import events
from inbox.commerce.models import Product, Resource
from inbox.models import Channel, Conversation, Organization, Role
from tests.commerce.factories import ProductFactory, ResourceFactory
from tests.factories import MembershipFactory, OrganizationFactory, make_channel, make_conversation


@dataclass
class Shop:
    organization: Organization
    channel: Channel
    conversation: Conversation
    supervisor: Any
    agent: Any
    outsider: Any  # an agent of the same organization without access to the channel
    batik: Product
    table: Resource


@pytest.fixture(autouse=True)
def _fast_passwords(settings) -> None:
    # PBKDF2 costs about a second per user on this machine; these tests are not about password storage.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def shop(db) -> Shop:
    organization = OrganizationFactory(name="Batik House")
    channel = make_channel(organization, name="Sandbox")
    supervisor = MembershipFactory(organization=organization, role=Role.SUPERVISOR, user__username="sari").user
    agent_membership = MembershipFactory(organization=organization, role=Role.AGENT, user__username="rina")
    agent_membership.channels.add(channel)
    outsider = MembershipFactory(organization=organization, role=Role.AGENT, user__username="budi").user
    conversation = make_conversation(channel, customer_id="cust-42", name="Dewi")
    return Shop(
        organization=organization,
        channel=channel,
        conversation=conversation,
        supervisor=supervisor,
        agent=agent_membership.user,
        outsider=outsider,
        batik=ProductFactory(organization=organization, sku="BTK-1", name="Blue batik", price="150000"),
        table=ResourceFactory(organization=organization, name="Table 1", capacity=4, slot_minutes=60),
    )


@pytest.fixture
def published():
    """Every domain event published during the test, as (name, payload) pairs."""
    seen: list[tuple[str, dict]] = []

    def record(event: events.DomainEvent) -> None:
        seen.append((event.name, event.payload))

    for pattern in ("order.*", "reservation.*"):
        events.subscribe(pattern, record, phase=events.IN_TRANSACTION)
    yield seen
    events.unsubscribe(record)


def at_hour(days: int = 1, hour: int = 10) -> datetime:
    """A whole hour ``days`` from now, in UTC."""
    base = timezone.now().astimezone(timezone.get_current_timezone()) + timedelta(days=days)
    return base.replace(hour=hour, minute=0, second=0, microsecond=0)
