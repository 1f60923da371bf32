"""The inbound HTTP path on the sandbox provider: verify, store, acknowledge, process, replay."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.utils import timezone

from inbox.models import Message
from integrations.models import InboundWebhook, WebhookRejection
from integrations.sandbox.adapter import message_body, sign
from integrations.services.webhooks import webhook_process
from tests.factories import OrganizationFactory, make_channel

pytestmark = [pytest.mark.django_db, pytest.mark.core]


@pytest.fixture
def channel():
    return make_channel(OrganizationFactory())


def sandbox_delivery(channel, external_id="m1", text="Hello"):
    return message_body(
        account_id=channel.account_id,
        events=[
            {
                "type": "message",
                "id": external_id,
                "customer": {"id": "c1", "name": "Ana"},
                "text": text,
                "timestamp": timezone.now().timestamp(),
            }
        ],
    )


def post(client, channel, body, signature=None, secret=None):
    secret = secret or channel.credential.secrets().app_secret
    headers = {} if signature is False else {"HTTP_X_SANDBOX_SIGNATURE": signature or sign(body, secret)}
    return client.post(f"/webhooks/sandbox/{channel.pk}/", data=body, content_type="application/json", **headers)


def test_signed_delivery_is_stored_acknowledged_and_processed(client, channel):
    response = post(client, channel, sandbox_delivery(channel))

    assert response.status_code == 200
    webhook = InboundWebhook.objects.get()
    assert webhook.status == "received" and webhook.channel == channel
    assert "x-sandbox-signature" in webhook.headers

    webhook_process(webhook_id=webhook.pk)

    webhook.refresh_from_db()
    assert webhook.status == "processed"
    assert Message.objects.get().body == "Hello"


def test_a_duplicate_delivery_is_acknowledged_and_ignored(client, channel):
    body = sandbox_delivery(channel)
    assert post(client, channel, body).status_code == 200
    response = post(client, channel, body)
    assert response.status_code == 200 and response.json()["status"] == "duplicate delivery ignored"
    assert InboundWebhook.objects.count() == 1


@pytest.mark.parametrize("signature, status", [(False, 401), ("sha256=00", 403)])
def test_failed_signature_stores_nothing_and_is_counted(client, channel, signature, status):
    response = post(client, channel, sandbox_delivery(channel), signature=signature)

    assert response.status_code == status
    assert "signature" in response.json()["error"]
    assert not InboundWebhook.objects.exists() and not Message.objects.exists()
    assert WebhookRejection.objects.get().count == 1


def test_wrong_secret_is_rejected(client, channel):
    assert post(client, channel, sandbox_delivery(channel), secret="guess").status_code == 403


def test_malformed_json_is_a_400_and_kept_for_admins(client, channel):
    response = post(client, channel, b'{"events": [')
    assert response.status_code == 400 and "malformed JSON" in response.json()["error"]
    webhook = InboundWebhook.objects.get()
    assert webhook.status == "failed" and "malformed JSON" in webhook.error


def test_unprocessable_delivery_is_kept_failed_with_reason_and_replayable(client, channel):
    post(client, channel, b'{"account_id": "x", "events": [{"type": "message", "id": "m1"}]}')
    webhook = InboundWebhook.objects.get()
    webhook_process(webhook_id=webhook.pk)
    webhook.refresh_from_db()
    assert webhook.status == "failed" and "customer.id" in webhook.error

    # An operator fixes the stored body (or the parser) and replays it.
    InboundWebhook.objects.filter(pk=webhook.pk).update(body=sandbox_delivery(channel, external_id="m7"))
    call_command("replay_webhooks")
    webhook.refresh_from_db()
    assert webhook.status == "processed" and Message.objects.get().external_id == "m7"


def test_processing_twice_is_harmless(client, channel):
    post(client, channel, sandbox_delivery(channel))
    webhook = InboundWebhook.objects.get()
    webhook_process(webhook_id=webhook.pk)
    webhook_process(webhook_id=webhook.pk)
    assert Message.objects.count() == 1


def test_unknown_endpoints_answer_404(client, channel):
    assert client.post("/webhooks/sandbox/999999/", data=b"{}", content_type="application/json").status_code == 404
    assert client.post("/webhooks/nosuch/", data=b"{}", content_type="application/json").status_code == 404
    assert (
        client.post(f"/webhooks/whatsapp/{channel.pk}/", data=b"{}", content_type="application/json").status_code == 404
    )


def test_sandbox_has_no_get_handshake(client, channel):
    assert client.get(f"/webhooks/sandbox/{channel.pk}/", {"hub.mode": "subscribe"}).status_code == 403
