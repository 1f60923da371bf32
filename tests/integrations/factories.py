"""Factories for the integrations admin surface: people with roles, stored deliveries, rejection counts."""

from __future__ import annotations

import hashlib
import itertools

import factory
from django.utils import timezone

from inbox.models import Role
from integrations.models import InboundWebhook, WebhookRejection
from tests.factories import MembershipFactory, UserFactory

_bodies = itertools.count(1)


def member(organization, role: str = Role.AGENT):
    """A user with an active membership of ``role`` in ``organization``.

    No usable password: these tests log in with ``force_login`` or tokens, and hashing a password costs a
    second on a busy CI machine.
    """
    return MembershipFactory(organization=organization, role=role, user=UserFactory(password=None)).user


def admin_of(organization):
    return member(organization, Role.ADMIN)


def agent_of(organization):
    return member(organization, Role.AGENT)


def _body(_: object) -> bytes:
    return b'{"n": %d}' % next(_bodies)


class InboundWebhookFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InboundWebhook

    provider = factory.LazyAttribute(lambda o: o.channel.kind if o.channel else "sandbox")
    channel = None
    body = factory.LazyAttribute(_body)
    body_sha256 = factory.LazyAttribute(lambda o: hashlib.sha256(bytes(o.body)).hexdigest())
    status = InboundWebhook.Status.PROCESSED
    received_at = factory.LazyFunction(timezone.now)


class WebhookRejectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookRejection

    provider = factory.LazyAttribute(lambda o: o.channel.kind if o.channel else "whatsapp")
    channel = None
    reason = "X-Hub-Signature-256 does not match the body (wrong app secret or altered body)"
    day = factory.LazyFunction(lambda: timezone.now().date())
    count = 3


def sandbox_delivery(channel, external_id: str) -> bytes:
    """The body of a sandbox webhook delivering one customer message ``external_id`` to ``channel``."""
    from integrations.sandbox.adapter import message_body

    event = {
        "type": "message",
        "id": external_id,
        "customer": {"id": "c1", "name": "Ana"},
        "text": "Hello",
        "timestamp": timezone.now().timestamp(),
    }
    return message_body(account_id=channel.account_id, events=[event])
