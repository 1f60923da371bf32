"""Webhook subscriptions of authorized apps: signed deliveries, retries with backoff, the log, disabling."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.test import Client
from django.utils import timezone

from inbox import events
from integrations.connections.models import AppAuthorization, WebhookDelivery, WebhookSubscription
from integrations.connections.services import outbound_webhooks
from tests.connections.provider_helpers import bearer, make_application, obtain_tokens
from tests.fakes.oauth import WebhookReceiver

pytestmark = [pytest.mark.core, pytest.mark.django_db]

SCOPES = "conversations:read webhooks:subscribe"


@pytest.fixture
def receiver():  # noqa: ANN201
    fake = WebhookReceiver(fail_first=2).start()
    yield fake
    fake.stop()


@pytest.fixture
def subscribed(owner_client, owner, receiver):  # noqa: ANN001, ANN201
    tokens = obtain_tokens(owner_client, make_application(), SCOPES, owner.organization_id)
    response = Client().post("/api/v1/webhook-subscriptions/", {"url": f"{receiver.base_url}/hooks",
                                                                "events": ["message.received"]},
                             content_type="application/json", **bearer(tokens["access_token"]))
    assert response.status_code == 201, response.content
    return response.json(), tokens


def publish_message_received(organization_id: int, django_capture_on_commit_callbacks) -> list:  # noqa: ANN001
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        events.publish("message.received", organization_id=organization_id,
                       message={"id": 7, "body": "Is the blue batik available?"})
    return callbacks


def test_subscribing_needs_the_scope_and_returns_the_secret_once(owner_client, owner, receiver):
    tokens = obtain_tokens(owner_client, make_application(), "conversations:read", owner.organization_id)
    refused = Client().post("/api/v1/webhook-subscriptions/",
                            {"url": receiver.base_url, "events": ["message.received"]},
                            content_type="application/json", **bearer(tokens["access_token"]))
    assert refused.status_code == 403


def test_unknown_events_and_bad_urls_get_clear_errors(subscribed, receiver):
    _, tokens = subscribed
    for body, word in (({"url": receiver.base_url, "events": ["order.deleted"]}, "Unknown event"),
                       ({"url": "ftp://x", "events": ["message.received"]}, "url")):
        answer = Client().post("/api/v1/webhook-subscriptions/", body, content_type="application/json",
                               **bearer(tokens["access_token"]))
        assert answer.status_code in (400, 403) and word in json.dumps(answer.json())
    listed = Client().get("/api/v1/webhook-subscriptions/", **bearer(tokens["access_token"])).json()
    assert len(listed["results"]) == 1 and "secret" not in listed["results"][0]


def test_event_is_delivered_signed_and_retried_with_backoff_until_the_receiver_accepts(
    subscribed, owner, receiver, django_capture_on_commit_callbacks
):
    created, _ = subscribed
    callbacks = publish_message_received(owner.organization_id, django_capture_on_commit_callbacks)
    # the first attempt is enqueued after commit
    assert [cb for cb in callbacks if "deliveries_record" in cb.__qualname__]
    delivery = WebhookDelivery.objects.get()
    first = outbound_webhooks.delivery_attempt(delivery_id=delivery.pk)
    assert first.status == "pending" and first.attempts == 1 and first.last_status_code == 500
    gap1 = first.next_attempt_at - timezone.now()
    assert timedelta(seconds=20) < gap1 < timedelta(seconds=40)
    assert outbound_webhooks.delivery_attempt(delivery_id=delivery.pk).attempts == 1  # not due yet: untouched
    second = outbound_webhooks.delivery_attempt(delivery_id=delivery.pk, now=first.next_attempt_at)
    assert second.attempts == 2 and second.next_attempt_at - timezone.now() > gap1  # backoff grows
    third = outbound_webhooks.delivery_attempt(delivery_id=delivery.pk, now=second.next_attempt_at)
    assert third.status == "delivered" and third.attempts == 3
    assert len(receiver.requests) == 3
    bodies = {r.body for r in receiver.requests}
    assert len(bodies) == 1  # the same bytes on every retry
    for request in receiver.requests:
        assert outbound_webhooks.verify_signature(created["secret"], request.headers["switchboard-signature"],
                                                  request.body)
        assert request.headers["switchboard-delivery"] == str(delivery.event_id)
        assert not outbound_webhooks.verify_signature("whsec_wrong", request.headers["switchboard-signature"],
                                                      request.body)
    body = json.loads(bodies.pop())
    assert body["event"] == "message.received" and body["data"]["message"]["body"] == "Is the blue batik available?"
    assert delivery.attempt_log.count() == 3
    subscription = WebhookSubscription.objects.get()
    assert subscription.failing_since is None and subscription.last_success_at is not None


def test_retries_last_at_least_a_day_then_give_up(subscribed, owner, django_capture_on_commit_callbacks):
    receiver_always_down = "http://127.0.0.1:9/hooks"  # nothing listens on the discard port
    WebhookSubscription.objects.update(url=receiver_always_down)
    publish_message_received(owner.organization_id, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(created_at=timezone.now() - timedelta(hours=23))
    assert outbound_webhooks.delivery_attempt(delivery_id=delivery.pk).status == "pending"  # 23 h: still retried
    WebhookDelivery.objects.filter(pk=delivery.pk).update(created_at=timezone.now() - timedelta(hours=27),
                                                          next_attempt_at=timezone.now())
    assert outbound_webhooks.delivery_attempt(delivery_id=delivery.pk).status == "failed"
    assert outbound_webhooks.retry_delay(30) <= timedelta(hours=6, minutes=73)


def test_a_subscriber_failing_too_long_is_disabled_and_its_owner_told(
    subscribed, owner, django_capture_on_commit_callbacks
):
    WebhookSubscription.objects.update(url="http://127.0.0.1:9/hooks", failing_since=timezone.now() - timedelta(days=4))
    publish_message_received(owner.organization_id, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        outbound_webhooks.delivery_attempt(delivery_id=delivery.pk)
    subscription = WebhookSubscription.objects.get()
    assert not subscription.is_active and "Disabled after failing" in subscription.disabled_reason
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["sari@example.com"]
    # no new deliveries for a disabled subscriber
    publish_message_received(owner.organization_id, django_capture_on_commit_callbacks)
    assert WebhookDelivery.objects.count() == 1


def test_delivery_log_and_manual_redeliver(
    subscribed, owner, owner_client, receiver, django_capture_on_commit_callbacks
):
    publish_message_received(owner.organization_id, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    outbound_webhooks.delivery_attempt(delivery_id=delivery.pk)
    log = owner_client.get(f"/connections/apps/webhooks/{delivery.subscription_id}/").content.decode()
    assert "message.received" in log and "the subscriber answered HTTP 500" in log and "Redeliver" in log
    owner_client.post(f"/connections/apps/deliveries/{delivery.pk}/redeliver/")  # still failing (2nd of 2)
    response = owner_client.post(f"/connections/apps/deliveries/{delivery.pk}/redeliver/", follow=True)
    assert "Redelivered" in response.content.decode()
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempt_log.filter(manual=True).count() == 2


def test_revoking_the_app_stops_webhooks_at_once(subscribed, owner, owner_client, django_capture_on_commit_callbacks):
    publish_message_received(owner.organization_id, django_capture_on_commit_callbacks)
    authorization = AppAuthorization.objects.get()
    owner_client.post(f"/connections/apps/{authorization.pk}/revoke/")
    assert WebhookDelivery.objects.get().status == "failed"
    assert not WebhookSubscription.objects.get().is_active
    publish_message_received(owner.organization_id, django_capture_on_commit_callbacks)
    assert WebhookDelivery.objects.count() == 1


def test_other_organizations_events_are_not_delivered(subscribed, django_capture_on_commit_callbacks):
    from tests.factories import OrganizationFactory

    publish_message_received(OrganizationFactory().pk, django_capture_on_commit_callbacks)
    assert not WebhookDelivery.objects.exists()


def test_subscribers_on_private_addresses_are_refused_in_production(subscribed, settings):
    _, tokens = subscribed
    settings.OUTBOUND_WEBHOOK_ALLOW_PRIVATE = False
    for url in ("http://127.0.0.1:8000/hooks", "http://10.0.0.5/hooks", "http://169.254.169.254/latest"):
        answer = Client().post("/api/v1/webhook-subscriptions/", {"url": url, "events": ["message.received"]},
                               content_type="application/json", **bearer(tokens["access_token"]))
        assert answer.status_code == 400 and "public address" in json.dumps(answer.json())
