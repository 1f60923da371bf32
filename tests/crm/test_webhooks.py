"""Signed webhooks for any other CRM: what the receiver gets, how to verify it, retries of a failing receiver,
redelivery, and an endpoint switched off after failing for too long."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from inbox import events
from integrations.connections.models import WebhookDelivery
from integrations.connections.services.outbound_webhooks import delivery_attempt
from integrations.crm import signing
from integrations.crm.services import webhooks
from tests.crm.conftest import make_shop
from tests.factories import MembershipFactory
from tests.fakes.server import FakeProvider, RecordedRequest, Reply

pytestmark = [pytest.mark.core, pytest.mark.django_db]


class Receiver(FakeProvider):
    """Another CRM's webhook endpoint: answers 200 unless scripted to fail."""

    def handle(self, request: RecordedRequest) -> Reply:
        return Reply(200, {"ok": True})


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    fake = Receiver().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def crm(db, hubspot, receiver):
    shop = make_shop(connect=False)
    endpoint, secret = webhooks.endpoint_create(
        organization=shop.organization, user=shop.admin.user, url=f"{receiver.base_url}/hooks/switchboard",
        event_types=["message.received", "order.paid"], description="Pipedrive via Zapier",
    )  # fmt: skip
    return shop, endpoint, secret


def test_a_customer_message_reaches_the_receiver_signed_and_verifiable(
    crm, receiver, django_capture_on_commit_callbacks
):
    shop, endpoint, secret = crm
    with django_capture_on_commit_callbacks() as enqueued:
        shop.receive("Hello, I want to order", name="Ana Lima")
    assert enqueued  # delivery enqueued on commit; run here as a worker would
    delivery_attempt(delivery_id=WebhookDelivery.objects.get().pk)
    [request] = receiver.requests
    assert request.method == "POST" and request.path == "/hooks/switchboard"
    assert signing.verify(secret, request.body, request.headers["switchboard-signature"])
    assert not signing.verify("whsec_wrong", request.body, request.headers["switchboard-signature"])
    namespace: dict = {}
    exec(signing.VERIFY_SNIPPET, namespace)  # the snippet on the page works as printed
    assert namespace["verify"](secret, request.body, request.headers["switchboard-signature"])
    payload = json.loads(request.body)
    assert request.headers["switchboard-event"] == payload["type"] == payload["event"] == "message.received"
    assert request.headers["switchboard-delivery"] == payload["id"]
    assert payload["data"]["message"]["body"] == "Hello, I want to order"
    assert payload["data"]["contact"]["name"] == "Ana Lima"
    assert WebhookDelivery.objects.get().status == "delivered"


def test_a_stale_or_tampered_signature_does_not_verify():
    body = b'{"a":1}'
    header = signing.sign("s", body, timestamp=int(time.time()) - 301)
    assert not signing.verify("s", body, header)
    assert not signing.verify("s", b'{"a":2}', signing.sign("s", body))


def test_a_failing_receiver_is_retried_with_backoff_and_keeps_the_event_id(crm, receiver, settings):
    settings.OUTBOUND_WEBHOOK_FIRST_RETRY_SECONDS = 0.1
    shop, endpoint, secret = crm
    receiver.fail_next(500)
    shop.receive("hi")
    delivery = WebhookDelivery.objects.get()
    delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.attempts == 1 and delivery.last_status_code == 500
    assert "HTTP 500" in delivery.last_error
    delivery_attempt(delivery_id=delivery.pk)  # not due yet: not sent twice
    assert len(receiver.requests) == 1
    time.sleep(0.15)
    delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempts == 2
    first, second = receiver.requests
    assert first.headers["switchboard-delivery"] == second.headers["switchboard-delivery"]
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None


def test_an_endpoint_failing_too_long_is_disabled_and_redeliver_works_after_fixing_it(crm, receiver, settings):
    settings.OUTBOUND_WEBHOOK_DISABLE_AFTER_SECONDS = 0
    shop, endpoint, secret = crm
    receiver.fail_next(503)
    shop.receive("hi")
    delivery = WebhookDelivery.objects.get()
    delivery_attempt(delivery_id=delivery.pk)
    endpoint.refresh_from_db()
    delivery.refresh_from_db()
    assert not endpoint.is_active and "Disabled after failing" in endpoint.disabled_reason
    assert delivery.status == "failed"
    shop.receive("while disabled")
    assert WebhookDelivery.objects.count() == 1  # a disabled endpoint gets nothing new

    webhooks.endpoint_update(endpoint=endpoint, user=shop.admin.user, is_active=True)
    webhooks.delivery_redeliver(delivery=delivery, user=shop.admin.user)  # sent at once
    delivery.refresh_from_db()
    assert delivery.status == "delivered"


def test_only_subscribed_events_are_sent(crm):
    shop, endpoint, secret = crm
    conversation = shop.receive("hi").message.conversation
    with transaction.atomic():
        events.publish("order.created", organization_id=shop.organization.pk,
                       order={"id": 1, "status": "draft", "contact_id": conversation.contact_id})  # fmt: skip
        events.publish("order.paid", organization_id=shop.organization.pk,
                       order={"id": 1, "status": "paid", "contact_id": conversation.contact_id})  # fmt: skip
    assert sorted(WebhookDelivery.objects.values_list("event", flat=True)) == ["message.received", "order.paid"]
    paid = WebhookDelivery.objects.get(event="order.paid")
    assert paid.payload["order"]["status"] == "paid" and paid.payload["contact"]["id"]


def test_the_test_button_sends_a_ping(crm, receiver):
    shop, endpoint, secret = crm
    delivery = webhooks.endpoint_send_test(endpoint=endpoint, user=shop.admin.user)
    assert delivery.status == "delivered" and delivery.attempt_log.get().status_code == 200
    assert json.loads(receiver.requests[0].body)["type"] == "ping"
    receiver.fail_next(500)
    failed = webhooks.endpoint_send_test(endpoint=endpoint, user=shop.admin.user)
    assert failed.status == "failed" and "HTTP 500" in failed.last_error  # a test is never retried


def test_only_managers_configure_endpoints_and_urls_are_checked(crm, settings):
    shop, endpoint, secret = crm
    agent = MembershipFactory(organization=shop.organization)
    with pytest.raises(PermissionDenied):
        webhooks.endpoint_create(organization=shop.organization, user=agent.user, url="https://crm.example/h",
                                 event_types=["order.paid"])  # fmt: skip
    with pytest.raises(ValidationError, match="Unknown event"):
        webhooks.endpoint_create(organization=shop.organization, user=shop.admin.user, url="https://crm.example/h",
                                 event_types=["order.exploded"])  # fmt: skip
    settings.OUTBOUND_WEBHOOK_ALLOW_PRIVATE = False
    for url in ("http://crm.example/h", "https://127.0.0.1/h", "https://[::1]/x", "ftp://x"):
        with pytest.raises(ValidationError):
            webhooks.check_url(url)
