"""Fuzzing every webhook endpoint, through Django's test client and as gunicorn calls the WSGI application (the
fast ingress answers ahead of Django's handler): never a 500, every failure stored with a reason.

Random providers (and unknown ones), channel and app-level endpoints, random methods' bodies (bytes, JSON,
documented payloads with nodes replaced or removed), random and correct signatures, odd headers. A delivery
that is signed correctly is then processed: it ends ``processed`` or ``failed`` with a reason an admin can read,
never with an exception. The client raises any view exception, so a 500 fails the test at once.
``RELIABILITY_LONG=1`` runs 100,000 examples.
"""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.models import InboundWebhook
from integrations.services.webhooks import webhook_process
from tests.factories import OrganizationFactory, make_channel
from tests.integrations.conftest import KITS, PAYLOADS
from tests.integrations.meta.strategies import json_values, mutated_payloads
from tests.reliability.conftest import FUZZ_EXAMPLES
from tests.wsgi_client import Answer, call

pytestmark = [pytest.mark.django_db, pytest.mark.core]

SECRET = "fuzz-secret"
PROVIDERS = ["sandbox", "whatsapp", "messenger", "tiktok"]
DOCUMENTED = {
    kind: [json.loads(path.read_text()) for path in sorted((PAYLOADS / kind).glob("*.json"))]
    for kind in ("whatsapp", "messenger", "tiktok")
}
DOCUMENTED["sandbox"] = [json.loads(KITS["sandbox"].inbound(external_id="sbx-1", text="hi"))]
header_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=90)


def bodies(kind: str) -> st.SearchStrategy[bytes]:
    return (
        st.binary(max_size=300)
        | json_values.map(lambda v: json.dumps(v).encode())
        | mutated_payloads(DOCUMENTED[kind])
        | st.sampled_from(DOCUMENTED[kind]).map(lambda d: json.dumps(d).encode())
    )


@st.composite
def deliveries(draw: st.DrawFn) -> dict:
    kind = draw(st.sampled_from([*PROVIDERS, "unknown"]))
    body = draw(bodies(kind if kind != "unknown" else "sandbox"))
    signing = draw(st.sampled_from(["right", "right-app", "random", "none", "stale"]))
    headers = draw(st.dictionaries(
        st.sampled_from(["HTTP_USER_AGENT", "HTTP_X_REQUEST_ID", "HTTP_X_FORWARDED_PROTO", "HTTP_ACCEPT",
                         "HTTP_X_HUB_SIGNATURE_256", "HTTP_TIKTOK_SIGNATURE"]),
        header_text, max_size=3))
    # A Content-Length that is not a number (a longer one than the body only makes the test client's own
    # stream assert; a real server waits for the missing bytes and times out).
    if draw(st.booleans()):
        headers["CONTENT_LENGTH"] = draw(st.sampled_from(["", "abc", "-1", "1e3", "0x10", "0"]))
    return {"kind": kind, "body": body, "signing": signing, "headers": headers,
            "endpoint": draw(st.sampled_from(["channel", "app", "missing-channel"])),
            "content_type": draw(st.sampled_from(["application/json", "text/plain",
                                                  "application/x-www-form-urlencoded"]))}


_channels: dict[str, object] = {}


def _channel(kind: str):
    channel = _channels.get(kind)
    if channel is None or not type(channel).objects.filter(pk=channel.pk).exists():
        kit = KITS[kind]
        channel = make_channel(OrganizationFactory(), kind=kind, name=kind, account_id=kit.account_id,
                               app_secret=SECRET, verify_token="v", access_token="t")
        _channels[kind] = channel
    return channel


@settings(max_examples=FUZZ_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(delivery=deliveries())
def test_no_webhook_delivery_makes_a_500_and_failures_keep_their_reason(client, settings, delivery):
    def send(path: str, body: bytes, content_type: str, headers: dict[str, str]):  # noqa: ANN202
        return client.post(path, data=body, content_type=content_type, **headers)

    _check_delivery(send, settings, delivery)


@settings(max_examples=FUZZ_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(delivery=deliveries())
def test_no_webhook_delivery_through_the_wsgi_ingress_makes_a_500(keep_test_connection, settings, delivery):
    """The same deliveries as gunicorn hands them to ``switchboard.wsgi.application``: the fast ingress
    (``integrations/ingress.py``) answers most of them ahead of Django's handler, which the test client skips."""

    def send(path: str, body: bytes, content_type: str, headers: dict[str, str]) -> Answer:
        length = headers.pop("CONTENT_LENGTH", None)
        return call("POST", path, body, content_type=content_type, content_length=length, environ_extra=headers)

    _check_delivery(send, settings, delivery)


def _check_delivery(send, settings, delivery: dict) -> None:  # noqa: ANN001
    if (settings.META_APP_SECRET, settings.TIKTOK_CLIENT_SECRET) != (SECRET, SECRET):
        # The app-level endpoint's secret. Once: the fixture lives across examples, and each assignment nests one
        # more override (the long run's thousands of examples hit Python's recursion limit in settings lookups).
        settings.META_APP_SECRET = settings.TIKTOK_CLIENT_SECRET = SECRET
    kind, body = delivery["kind"], delivery["body"]
    if kind == "unknown":
        path = "/webhooks/unknown/"
    elif delivery["endpoint"] == "app":
        path = f"/webhooks/{kind}/"
    elif delivery["endpoint"] == "missing-channel":
        path = f"/webhooks/{kind}/999999/"
    else:
        path = f"/webhooks/{kind}/{_channel(kind).pk}/"
    headers = dict(delivery["headers"])
    if kind != "unknown" and delivery["signing"] != "none":
        kit = KITS[kind]
        if delivery["signing"] == "random":
            signature = {kit.signature_header: headers.get("HTTP_X_HUB_SIGNATURE_256", "sha256=00")}
        else:
            at = time.time() - 3600 if delivery["signing"] == "stale" else None
            signature = kit.sign(body, SECRET, at=at)
        headers.update({"HTTP_" + k.upper().replace("-", "_"): v for k, v in signature.items()})
    # The newest id, not the set of ids: the rows of earlier examples pile up (100,000 in the long run).
    before = InboundWebhook.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    response = send(path, body, delivery["content_type"], headers)

    assert response.status_code in (200, 400, 401, 403, 404, 413), response.status_code
    if response.status_code >= 400:
        assert response.json()["error"]  # a reason, never an empty refusal
    for webhook in InboundWebhook.objects.filter(pk__gt=before):
        processed = webhook_process(webhook_id=webhook.pk)
        assert processed.status in ("processed", "failed")
        if processed.status == "failed":
            assert processed.error, "a failed delivery must say why"


@settings(max_examples=max(50, FUZZ_EXAMPLES // 4), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(kind=st.sampled_from(PROVIDERS), query=st.dictionaries(
    st.sampled_from(["hub.mode", "hub.verify_token", "hub.challenge", "x"]), header_text, max_size=4))
def test_no_handshake_makes_a_500(client, kind, query):
    response = client.get(f"/webhooks/{kind}/{_channel(kind).pk}/", query)
    assert response.status_code in (200, 403, 404)
