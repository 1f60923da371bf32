"""The WSGI fast path for provider webhooks (issue 9, ``integrations/ingress.py``), through the real WSGI app.

Each request goes through ``switchboard.wsgi.application`` as a WSGI server calls it, and the same answers are
checked against Django's own handler (``switchboard.wsgi.django_application``, the view behind the middleware).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application

from integrations.meta import webhooks as meta_webhooks
from integrations.models import InboundWebhook, WebhookRejection
from integrations.sandbox.adapter import sign
from integrations.services import webhooks
from integrations.services.channels import channel_update
from switchboard import wsgi
from tests.factories import OrganizationFactory, make_channel
from tests.integrations.factories import sandbox_delivery
from tests.wsgi_client import Answer, call

pytestmark = [pytest.mark.django_db, pytest.mark.core]

SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}


@pytest.fixture(autouse=True)
def _requests_keep_the_test_connection(keep_test_connection):
    """The WSGI app is called directly (that request_started/finished are sent is tested below)."""


@pytest.fixture
def channel():
    return make_channel(OrganizationFactory())


@pytest.fixture
def django_calls(monkeypatch):
    """Every request that reached Django's handler rather than the fast path."""
    calls: list[str] = []
    inner = wsgi.application.app

    def spy(environ, start_response):  # noqa: ANN001, ANN202
        calls.append(f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}")
        return inner(environ, start_response)

    monkeypatch.setattr(wsgi.application, "app", spy)
    return calls


def post(channel, body: bytes, secret: str | None = None, **kwargs: Any) -> Answer:
    secret = secret or channel.credential.secrets().app_secret
    headers = {"X-Sandbox-Signature": sign(body, secret), **kwargs.pop("headers", {})}
    return call("POST", f"/webhooks/sandbox/{channel.pk}/", body, headers, **kwargs)


# -- the statuses of the view ----------------------------------------------------------------------------------


def test_a_signed_delivery_is_stored_and_acknowledged_without_django(channel, django_calls):
    answer = post(channel, sandbox_delivery(channel, "m1"))

    assert (answer.status_code, answer.reason, answer.json()) == (200, "OK", {"status": "received"})
    webhook = InboundWebhook.objects.get()
    assert webhook.status == "received" and webhook.channel_id == channel.pk
    assert webhook.headers["x-sandbox-signature"] and webhook.headers["content-type"] == "application/json"
    assert django_calls == []


def test_the_same_delivery_twice_is_stored_once(channel, django_calls):
    body = sandbox_delivery(channel, "m1")
    assert post(channel, body).json() == {"status": "received"}
    second = post(channel, body)

    assert (second.status_code, second.json()) == (200, {"status": "duplicate delivery ignored"})
    assert InboundWebhook.objects.count() == 1
    assert django_calls == []


@pytest.mark.parametrize(
    "headers, status", [({"X-Sandbox-Signature": ""}, 401), ({"X-Sandbox-Signature": "sha256=00"}, 403)]
)
def test_a_bad_signature_is_refused_and_counted(channel, django_calls, headers, status, caplog):
    body = sandbox_delivery(channel, "m1")
    with caplog.at_level(logging.WARNING, logger="django.request"):
        answer = call("POST", f"/webhooks/sandbox/{channel.pk}/", body, headers)

    assert answer.status_code == status and "signature check failed" in answer.json()["error"]
    assert not InboundWebhook.objects.exists() and WebhookRejection.objects.get().count == 1
    # Logged as Django's handler logs every 4xx answer.
    record = next(r for r in caplog.records if r.name == "django.request")
    assert record.levelno == logging.WARNING and record.status_code == status
    assert record.getMessage() == f"{answer.reason}: /webhooks/sandbox/{channel.pk}/"
    assert django_calls == []


def test_malformed_json_is_a_400_and_kept(channel, django_calls):
    answer = post(channel, b'{"not json')

    assert answer.status_code == 400 and answer.json()["error"].startswith("malformed JSON")
    assert InboundWebhook.objects.get().status == "failed"
    assert django_calls == []


def test_unknown_endpoints_answer_404(channel, django_calls):
    body = sandbox_delivery(channel, "m1")
    for path in (f"/webhooks/sandbox/{channel.pk + 1000}/", f"/webhooks/whatsapp/{channel.pk}/"):
        answer = call("POST", path, body, {"X-Sandbox-Signature": sign(body, "x")})
        assert (answer.status_code, answer.json()) == (404, {"error": "unknown webhook endpoint"})
    assert django_calls == []
    # A provider without an adapter goes to Django, which answers the same.
    answer = call("POST", f"/webhooks/nosuchprovider/{channel.pk}/", body)
    assert (answer.status_code, answer.json()) == (404, {"error": "unknown webhook endpoint"})
    assert django_calls == [f"POST /webhooks/nosuchprovider/{channel.pk}/"]


@pytest.mark.parametrize(
    "content_length, status, error",
    [("abc", 400, "invalid Content-Length header"), (str(2 * 1024 * 1024), 413, "body too large")],
)
def test_a_bad_or_too_large_content_length_gets_the_views_answer(channel, django_calls, content_length, status, error):
    answer = post(channel, sandbox_delivery(channel, "m1"), content_length=content_length)

    assert (answer.status_code, answer.json()) == (status, {"error": error})
    assert not InboundWebhook.objects.exists()
    assert len(django_calls) == 1  # out of the ordinary: Django's view answered


def test_the_app_level_endpoint(settings, django_calls):
    settings.META_APP_SECRET = "app-secret-for-the-ingress-test"
    body = json.dumps({"object": "whatsapp_business_account", "entry": []}).encode()
    headers = {"X-Hub-Signature-256": meta_webhooks.sign(body, settings.META_APP_SECRET)}

    first = call("POST", "/webhooks/whatsapp/", body, headers)
    second = call("POST", "/webhooks/whatsapp/", body, headers)

    assert (first.status_code, first.json()) == (200, {"status": "received"})
    assert (second.status_code, second.json()) == (200, {"status": "duplicate delivery ignored"})
    assert InboundWebhook.objects.filter(channel=None, provider="whatsapp").count() == 1
    assert call("POST", "/webhooks/whatsapp/", body, {"X-Hub-Signature-256": "sha256=00"}).status_code == 403
    assert django_calls == []


# -- what the middleware adds, and what Django answers ---------------------------------------------------------


def test_headers_are_those_of_the_django_path(channel, django_calls):
    body = sandbox_delivery(channel, "m1")
    headers = {"X-Sandbox-Signature": "sha256=00"}  # refused: nothing stored, so both paths answer alike
    fast = call("POST", f"/webhooks/sandbox/{channel.pk}/", body, headers)
    django = call("POST", f"/webhooks/sandbox/{channel.pk}/", body, headers, app=wsgi.django_application)

    assert (fast.status_code, fast.content) == (django.status_code, django.content)
    assert sorted(name for name, _ in fast.header_list) == sorted(name for name, _ in django.header_list)
    for name, value in django.headers.items():
        if name != "X-Request-ID":
            assert fast.headers[name] == value, name
    assert fast.headers["Content-Length"] == str(len(fast.content))
    assert fast.headers["Content-Type"] == "application/json"
    assert SECURITY_HEADERS.items() <= fast.headers.items()
    assert fast.headers["X-Request-ID"].isalnum() and fast.headers["X-Request-ID"] != django.headers["X-Request-ID"]
    assert "Set-Cookie" not in fast.headers and "Content-Security-Policy" not in fast.headers
    assert django_calls == []


def test_the_proxys_request_id_is_kept_and_a_bad_one_replaced(channel):
    answer = post(channel, sandbox_delivery(channel, "m1"), headers={"X-Request-ID": "abc123"})
    assert answer.headers["X-Request-ID"] == "abc123"
    replaced = post(channel, sandbox_delivery(channel, "m2"), headers={"X-Request-ID": "no spaces; please"})
    assert replaced.headers["X-Request-ID"] != "no spaces; please" and replaced.headers["X-Request-ID"].isalnum()


def test_https_headers_follow_security_middleware(channel, settings):
    settings.SECURE_HSTS_SECONDS = 3600
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    plain = post(channel, sandbox_delivery(channel, "m1"))
    secure = post(channel, sandbox_delivery(channel, "m2"), headers={"X-Forwarded-Proto": "https"})

    assert "Strict-Transport-Security" not in plain.headers
    assert secure.headers["Strict-Transport-Security"] == "max-age=3600"


def test_an_https_redirect_is_left_to_django(channel, settings, monkeypatch):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    handler = get_wsgi_application()  # a new handler: Django reads middleware settings when it builds the chain
    calls = []
    monkeypatch.setattr(wsgi.application, "app", lambda environ, start: calls.append(1) or handler(environ, start))
    plain = post(channel, sandbox_delivery(channel, "m1"))
    secure = post(channel, sandbox_delivery(channel, "m2"), headers={"X-Forwarded-Proto": "https"})

    assert plain.status_code == 301 and plain.headers["Location"].startswith("https://")
    assert len(calls) == 1  # the redirect came from Django; the secure request took the fast path
    assert secure.status_code == 200 and InboundWebhook.objects.count() == 1


def test_other_requests_fall_through_to_django(channel, django_calls):
    assert call("GET", f"/webhooks/sandbox/{channel.pk}/").status_code == 403  # the sandbox has no handshake
    assert call("POST", "/webhooks/sandbox/not-a-number/", b"{}").status_code == 404
    assert call("PUT", f"/webhooks/sandbox/{channel.pk}/", b"{}").status_code == 405
    login = call("GET", "/login/")
    assert login.status_code == 200 and "Content-Security-Policy" in login.headers
    assert django_calls == [
        f"GET /webhooks/sandbox/{channel.pk}/",
        "POST /webhooks/sandbox/not-a-number/",
        f"PUT /webhooks/sandbox/{channel.pk}/",
        "GET /login/",
    ]


@pytest.mark.parametrize(
    "change",
    [
        {"WEBHOOK_FAST_INGRESS": False},
        {
            "MIDDLEWARE": [
                "django.middleware.security.SecurityMiddleware",
                "switchboard.middleware.MachineEndpointMiddleware",
            ]
        },
    ],
)
def test_switched_off_or_unexpected_middleware_sends_webhooks_to_django(channel, settings, django_calls, change):
    for name, value in change.items():
        setattr(settings, name, value)
    answer = post(channel, sandbox_delivery(channel, "m1"))

    assert answer.status_code == 200 and len(django_calls) == 1


def test_an_unexpected_error_is_a_logged_500_without_details(channel, django_calls, monkeypatch, caplog):
    def broken(**kwargs):  # noqa: ANN003, ANN202
        raise RuntimeError("database exploded: secret-detail")

    monkeypatch.setattr(webhooks, "webhook_receive", broken)
    with caplog.at_level(logging.ERROR, logger="django.request"):
        answer = post(channel, sandbox_delivery(channel, "m1"))

    assert answer.status_code == 500
    assert b"secret-detail" not in answer.content and b"Traceback" not in answer.content
    assert answer.headers["X-Request-ID"] and answer.headers["X-Content-Type-Options"] == "nosniff"
    record = next(r for r in caplog.records if r.name == "django.request")
    assert record.levelno == logging.ERROR and record.exc_info and "RuntimeError" in caplog.text
    assert django_calls == []


# -- request lifecycle -----------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_processing_is_enqueued_and_the_request_finished_only_when_the_answer_is_closed(monkeypatch):
    channel = make_channel(OrganizationFactory())
    events: list[Any] = []
    monkeypatch.setattr(webhooks, "webhook_enqueue_processing", lambda pk: events.append(("enqueue", pk)))

    def started(**kwargs):  # noqa: ANN003, ANN202
        events.append("started")

    def finished(**kwargs):  # noqa: ANN003, ANN202
        events.append("finished")

    request_started.connect(started)
    request_finished.connect(finished)
    try:
        answer = post(channel, sandbox_delivery(channel, "m1"), close=False)
        assert answer.status_code == 200 and answer.content  # the answer was sent...
        assert events == ["started"]  # ...and nothing was enqueued yet
        answer.close()
    finally:
        request_started.disconnect(started)
        request_finished.disconnect(finished)
    assert events == ["started", ("enqueue", InboundWebhook.objects.get().pk), "finished"]


# -- the secrets cache -----------------------------------------------------------------------------------------


def test_a_secret_rotated_in_this_process_is_used_at_once(channel):
    old = channel.credential.secrets().app_secret
    assert post(channel, sandbox_delivery(channel, "m1"), secret=old).status_code == 200

    channel_update(channel=channel, updated_by=None, secrets={"app_secret": "rotated-secret-0123456789"})

    assert post(channel, sandbox_delivery(channel, "m2"), secret=old).status_code == 403
    assert post(channel, sandbox_delivery(channel, "m3"), secret="rotated-secret-0123456789").status_code == 200


def test_a_change_made_by_another_process_takes_effect_within_the_ttl(channel, settings, monkeypatch):
    settings.WEBHOOK_SECRETS_TTL_SECONDS = 5.0
    clock = [1000.0]
    monkeypatch.setattr(webhooks, "_clock", lambda: clock[0])
    secret = channel.credential.secrets().app_secret
    assert post(channel, sandbox_delivery(channel, "m1"), secret=secret).status_code == 200
    # As another process would: the row changes, and no signal reaches this one.
    type(channel).objects.filter(pk=channel.pk).update(kind="whatsapp")

    clock[0] += 4.0
    assert post(channel, sandbox_delivery(channel, "m2"), secret=secret).status_code == 200  # still cached
    clock[0] += 1.5
    assert post(channel, sandbox_delivery(channel, "m3"), secret=secret).status_code == 404  # read again
