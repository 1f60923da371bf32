"""Webhook signatures, for every provider, through the real endpoint: wrong, missing, truncated, replayed.

Every refused delivery answers 401/403 and stores nothing but a rejection count. The comparisons are
constant-time: each verify function is run with ``hmac.compare_digest`` spied on, and none compares a digest
with ``==``.
"""

from __future__ import annotations

import hmac
import inspect
import time

import pytest

from integrations.meta import webhooks as meta_webhooks
from integrations.models import InboundWebhook, WebhookRejection
from integrations.sandbox import adapter as sandbox_adapter
from integrations.tiktok import signature as tiktok_signature
from tests.factories import OrganizationFactory, make_channel
from tests.integrations.conftest import KITS

pytestmark = [pytest.mark.django_db, pytest.mark.core]

SECRET = "signature-test-secret"
PROVIDERS = ["sandbox", "whatsapp", "messenger", "tiktok"]


@pytest.fixture
def setup():
    def make(kind: str):
        kit = KITS[kind]
        channel = make_channel(OrganizationFactory(), kind=kind, name=kind, account_id=kit.account_id,
                               app_secret=SECRET, verify_token="verify-me", access_token="token")
        return kit, channel

    return make


def _post(client, kind: str, channel, body: bytes, headers: dict[str, str]):
    meta = {"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()}
    return client.post(f"/webhooks/{kind}/{channel.pk}/", data=body, content_type="application/json", **meta)


def _variants(kit, body: bytes) -> dict[str, dict[str, str]]:
    good = kit.sign(body, SECRET)[kit.signature_header]
    return {
        "missing": {},
        "empty": {kit.signature_header: ""},
        "wrong secret": kit.sign(body, "not-the-secret"),
        "other body": kit.sign(body + b" ", SECRET),
        "truncated": {kit.signature_header: good[:-1]},
        "truncated to half": {kit.signature_header: good[: len(good) // 2]},
        "one hex digit changed": {kit.signature_header: good[:-1] + ("0" if good[-1] != "0" else "1")},
        "garbage": {kit.signature_header: "sha256=" + "z" * 64},
        "header of another provider": {"X-Other-Signature": good},
    }


@pytest.mark.parametrize("kind", PROVIDERS)
def test_every_bad_signature_is_refused_and_nothing_stored(client, setup, kind):
    kit, channel = setup(kind)
    body = kit.inbound(external_id=f"{kind}-sig-1", text="hello")
    for name, headers in _variants(kit, body).items():
        response = _post(client, kind, channel, body, headers)
        assert response.status_code in (401, 403), (name, response.status_code, response.content)
        assert "signature" in response.json()["error"], name
    assert not InboundWebhook.objects.exists()
    assert sum(WebhookRejection.objects.values_list("count", flat=True)) == len(_variants(kit, body))
    # And the right signature is accepted: the refusals above were about the signature, not the body.
    assert _post(client, kind, channel, body, kit.sign(body, SECRET)).status_code == 200


# -310, not -301: TikTok signs whole seconds, so "301 s ahead" truncates to 300.x and passes as the request
# takes its time (a flaky test); 310 s ahead is refused however slow the machine is.
@pytest.mark.parametrize("age", [301, 3600, -310])
def test_tiktok_replayed_or_future_signatures_are_refused(client, setup, age):
    kit, channel = setup("tiktok")
    body = kit.inbound(external_id="tt-replay", text="hello")
    # A delivery signed correctly, but `age` seconds ago (a replay) or in the future (a forged clock).
    stale = kit.sign(body, SECRET, at=time.time() - age)
    response = _post(client, "tiktok", channel, body, stale)
    assert response.status_code == 403
    assert ("stale" if age > 0 else "future") in response.json()["error"]
    assert not InboundWebhook.objects.exists()


def test_a_replayed_meta_delivery_is_acknowledged_but_stored_once(client, setup):
    """Meta signs no timestamp: a replay of a genuine delivery is only harmless because it is deduplicated."""
    kit, channel = setup("whatsapp")
    body = kit.inbound(external_id="wa-replay", text="hello")
    for _ in range(3):
        assert _post(client, "whatsapp", channel, body, kit.sign(body, SECRET)).status_code == 200
    assert InboundWebhook.objects.count() == 1


def test_a_channel_without_a_secret_accepts_nothing(client):
    """Fail closed: an empty secret must not make an empty (or any) signature valid."""
    for kind in ("whatsapp", "tiktok"):
        kit = KITS[kind]
        channel = make_channel(OrganizationFactory(), kind=kind, name=kind, account_id=kit.account_id + "x",
                               access_token="t")
        body = kit.inbound(external_id=f"{kind}-nosecret", text="hi")
        assert _post(client, kind, channel, body, kit.sign(body, "")).status_code in (401, 403)
    assert not InboundWebhook.objects.exists()


# -- constant time ---------------------------------------------------------------------------------------------


_compare_digest = hmac.compare_digest


class Spy:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, a, b) -> bool:  # noqa: ANN001
        self.calls += 1
        return _compare_digest(a, b)


@pytest.mark.parametrize("kind", PROVIDERS)
def test_signature_comparison_uses_compare_digest(client, setup, kind, monkeypatch):
    module = {"sandbox": sandbox_adapter, "whatsapp": meta_webhooks, "messenger": meta_webhooks,
              "tiktok": tiktok_signature}[kind]
    spy = Spy()
    monkeypatch.setattr(module.hmac, "compare_digest", spy)  # the module's own `hmac` reference
    kit, channel = setup(kind)
    body = kit.inbound(external_id=f"{kind}-ct", text="hello")
    assert _post(client, kind, channel, body, kit.sign(body, SECRET)).status_code == 200
    assert _post(client, kind, channel, body, kit.sign(body, "wrong")).status_code in (401, 403)
    assert spy.calls >= 2


def test_meta_handshake_token_comparison_uses_compare_digest(client, setup, monkeypatch):
    spy = Spy()
    monkeypatch.setattr(meta_webhooks.hmac, "compare_digest", spy)
    _, channel = setup("whatsapp")
    query = {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "42"}
    assert client.get(f"/webhooks/whatsapp/{channel.pk}/", query).content == b"42"
    assert client.get(f"/webhooks/whatsapp/{channel.pk}/", {**query, "hub.verify_token": "nope"}).status_code == 403
    assert spy.calls == 2


@pytest.mark.parametrize("function", [
    sandbox_adapter.SandboxAdapter.verify_request,
    meta_webhooks.verify_signature,
    meta_webhooks.answer_handshake,
    tiktok_signature.verify,
])
def test_no_verify_function_compares_secrets_with_equality(function):
    source = inspect.getsource(function)
    assert "compare_digest" in source
    for line in source.splitlines():
        code = line.split("#")[0]
        if any(word in code for word in ("expected", "signature", "token", "given")) and "compare_digest" not in code:
            assert " == " not in code and " != " not in code, f"non-constant-time comparison: {line.strip()}"
