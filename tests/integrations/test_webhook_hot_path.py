"""The acknowledgement's hot path (issues 2 and 9): cached secrets, no browser middleware, enqueue after sending."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from integrations.models import InboundWebhook
from integrations.sandbox.adapter import sign
from integrations.services import webhooks
from integrations.services.channels import channel_update
from integrations.views import AckResponse, EnqueueAfterSent
from tests.factories import OrganizationFactory, make_channel
from tests.integrations.factories import sandbox_delivery

pytestmark = [pytest.mark.django_db, pytest.mark.core]


@pytest.fixture
def channel():
    return make_channel(OrganizationFactory())




def post(client, channel, body: bytes, secret: str):
    return client.post(
        f"/webhooks/sandbox/{channel.pk}/",
        data=body,
        content_type="application/json",
        HTTP_X_SANDBOX_SIGNATURE=sign(body, secret),
    )


def test_a_rotated_secret_is_used_from_the_next_delivery_despite_the_cache(client, channel):
    old_secret = channel.credential.secrets().app_secret
    assert post(client, channel, sandbox_delivery(channel, "m1"), old_secret).status_code == 200  # now cached

    channel_update(channel=channel, updated_by=None, secrets={"app_secret": "rotated-secret-0123456789"})

    assert post(client, channel, sandbox_delivery(channel, "m2"), old_secret).status_code == 403
    assert post(client, channel, sandbox_delivery(channel, "m3"), "rotated-secret-0123456789").status_code == 200
    assert set(InboundWebhook.objects.values_list("status", flat=True)) == {"received"}
    assert InboundWebhook.objects.count() == 2


def test_a_deleted_channel_is_not_served_from_the_cache(client, channel):
    secret = channel.credential.secrets().app_secret
    assert post(client, channel, sandbox_delivery(channel, "m1"), secret).status_code == 200
    channel_id = channel.pk
    channel.delete()

    response = client.post(
        f"/webhooks/sandbox/{channel_id}/",
        data=sandbox_delivery(channel, "m2"),
        content_type="application/json",
        HTTP_X_SANDBOX_SIGNATURE=sign(sandbox_delivery(channel, "m2"), secret),
    )
    assert response.status_code == 404


def test_the_secrets_are_decrypted_once_per_credential_version(channel, monkeypatch):
    webhooks._SECRETS_CACHE.clear()
    decrypted = []
    real = type(channel.credential).secrets

    def counting(self):  # noqa: ANN001, ANN202
        decrypted.append(self.encrypted)
        return real(self)

    monkeypatch.setattr(type(channel.credential), "secrets", counting)
    for _ in range(3):
        assert webhooks.channel_secrets("sandbox", channel.pk).app_secret
    assert len(decrypted) == 1
    with pytest.raises(type(channel).DoesNotExist):
        webhooks.channel_secrets("whatsapp", channel.pk)  # right id, wrong provider


def test_webhooks_run_no_session_auth_or_locale_middleware(channel):
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = "not-a-session"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "th"
    response = post(client, channel, sandbox_delivery(channel, "m1"), channel.credential.secrets().app_secret)

    assert response.status_code == 200
    request = response.wsgi_request
    assert not hasattr(request, "session") and not hasattr(request, "user")
    assert "Set-Cookie" not in response.headers and not response.cookies
    assert "Cookie" not in response.headers.get("Vary", "")  # nothing varied on the session or the language
    assert "Content-Language" not in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"  # SecurityMiddleware still runs
    assert response.headers["X-Request-ID"]
    assert response.headers["Content-Length"] == str(len(response.content))  # not chunked


def test_pages_keep_the_whole_middleware_stack(client):
    response = client.get("/login/")
    assert hasattr(response.wsgi_request, "session") and hasattr(response.wsgi_request, "user")
    assert "Content-Security-Policy" in response.headers


def test_an_unknown_webhook_path_goes_through_the_normal_stack(client):
    assert (
        client.post("/webhooks/sandbox/not-a-number/", data=b"{}", content_type="application/json").status_code == 404
    )


@pytest.mark.django_db(transaction=True)
def test_processing_is_enqueued_once_the_answer_was_sent(channel, monkeypatch):
    seen_at_enqueue = []
    monkeypatch.setattr(
        webhooks, "webhook_enqueue_processing", lambda pk: seen_at_enqueue.append((pk, response_holder[0]))
    )
    response_holder = [None]
    original_close = AckResponse.close

    def close(self):  # noqa: ANN001, ANN202
        response_holder[0] = self.status_code  # the answer exists (and was sent) before the enqueue
        original_close(self)

    monkeypatch.setattr(AckResponse, "close", close)
    response = post(Client(), channel, sandbox_delivery(channel, "m1"), channel.credential.secrets().app_secret)

    assert response.status_code == 200
    assert seen_at_enqueue == [(InboundWebhook.objects.get().pk, 200)]


def test_a_delivery_committed_after_the_answer_is_enqueued_at_once(monkeypatch):
    enqueued = []
    monkeypatch.setattr(webhooks, "webhook_enqueue_processing", enqueued.append)
    after_sent = EnqueueAfterSent()
    after_sent(1)
    assert enqueued == []
    after_sent.flush()
    after_sent(2)  # an on_commit of a caller's transaction that commits later
    assert enqueued == [1, 2]


def test_a_broker_failure_never_turns_a_stored_delivery_into_an_error(channel, monkeypatch, caplog):
    from integrations import tasks

    def broken(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.process_inbound, "delay", broken)
    webhooks.webhook_enqueue_processing(41)
    webhooks._PROCESSING.flush()  # with a broker the publish runs on the coalescer's thread
    assert "the sweep will" in caplog.text
