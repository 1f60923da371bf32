"""The payment link step: signed callbacks from the (fake) provider, applied exactly once."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from inbox.commerce.models import Order, Payment, PaymentCallback
from inbox.commerce.payment_providers.fake import build_callback
from inbox.commerce.services import orders
from inbox.models import Message

pytestmark = [pytest.mark.core, pytest.mark.django_db]

URL = "/commerce/payments/fake/callback"


@pytest.fixture
def awaiting(shop) -> tuple[Order, Payment]:
    order = orders.order_create(user=shop.agent, conversation=shop.conversation,
                                lines=[orders.LineInput(product_id=shop.batik.pk)])
    orders.order_transition(user=shop.agent, order=order, to="awaiting_payment")
    return order, order.payments.get()


def post(client, body: bytes, headers: dict[str, str]):
    return client.post(URL, data=body, content_type="application/json",
                       headers={k: v for k, v in headers.items() if k != "Content-Type"})


def test_signed_success_marks_the_order_paid_and_confirms_to_the_customer(client, awaiting):
    order, payment = awaiting
    body, headers = build_callback(reference=payment.reference, outcome="succeeded", amount="150000", currency="IDR")
    response = post(client, body, headers)
    assert response.status_code == 200 and response.json()["outcome"] == "paid"
    order.refresh_from_db()
    assert order.status == "paid" and order.paid_at is not None
    assert Message.objects.filter(body__startswith="Payment received for order #1001 (IDR 150,000)").count() == 1


def test_the_same_callback_twice_is_applied_once(client, awaiting, published):
    order, payment = awaiting
    body, headers = build_callback(reference=payment.reference, outcome="succeeded", amount="150000", currency="IDR",
                                   event_id="evt_1")
    assert post(client, body, headers).json()["outcome"] == "paid"
    again = post(client, body, headers)
    assert again.status_code == 200 and again.json()["outcome"] == "duplicate"
    # A second, different success event for the same payment is also a no-op.
    body2, headers2 = build_callback(reference=payment.reference, outcome="succeeded", amount="150000",
                                     currency="IDR", event_id="evt_2")
    assert post(client, body2, headers2).json()["outcome"] == "duplicate"
    assert [name for name, _ in published].count("order.paid") == 1
    assert Message.objects.filter(body__startswith="Payment received").count() == 1
    assert PaymentCallback.objects.count() == 2


@pytest.mark.parametrize(
    "tamper",
    [
        lambda body, headers: (body + b" ", headers),
        lambda body, headers: (body, {**headers, "X-Fake-Pay-Signature": "t=1,v1=00"}),
        lambda body, headers: (body, {"Content-Type": "application/json"}),
    ],
    ids=["body-changed", "wrong-signature", "no-signature"],
)
def test_unsigned_or_tampered_callbacks_are_rejected_and_change_nothing(client, awaiting, tamper):
    order, payment = awaiting
    body, headers = build_callback(reference=payment.reference, outcome="succeeded", amount="150000", currency="IDR")
    body, headers = tamper(body, headers)
    response = post(client, body, headers)
    assert response.status_code == 401
    assert "invalid signature" in response.json()["error"]
    assert Order.objects.get(pk=order.pk).status == "awaiting_payment"
    assert not PaymentCallback.objects.exists()


def test_an_old_signature_is_rejected(client, awaiting):
    _, payment = awaiting
    body, headers = build_callback(reference=payment.reference, outcome="succeeded", amount="150000", currency="IDR",
                                   timestamp=int(time.time()) - 3600)
    assert post(client, body, headers).status_code == 401


def test_malformed_but_signed_body_is_a_400(client, awaiting):
    from inbox.commerce.payment_providers.fake import SIGNATURE_HEADER, sign

    body = b'{"type": "payment.refunded"}'
    response = post(client, body, {SIGNATURE_HEADER: sign(body, int(time.time()))})
    assert response.status_code == 400


def test_wrong_amount_is_not_applied(client, awaiting):
    order, payment = awaiting
    body, headers = build_callback(reference=payment.reference, outcome="succeeded", amount="1", currency="IDR")
    assert post(client, body, headers).json()["outcome"] == "mismatch"
    assert Order.objects.get(pk=order.pk).status == "awaiting_payment"


def test_failure_then_retry_success(client, awaiting):
    order, payment = awaiting
    body, headers = build_callback(reference=payment.reference, outcome="failed", amount="150000", currency="IDR",
                                   reason="card declined")
    assert post(client, body, headers).json()["outcome"] == "failed"
    payment.refresh_from_db()
    assert (payment.status, payment.failure_reason) == ("failed", "card declined")
    body, headers = build_callback(reference=payment.reference, outcome="succeeded", amount="150000", currency="IDR")
    assert post(client, body, headers).json()["outcome"] == "paid"
    assert Order.objects.get(pk=order.pk).status == "paid"


def test_unknown_reference_is_acknowledged(client, awaiting):
    body, headers = build_callback(reference="fake_nope", outcome="succeeded", amount="1", currency="IDR")
    assert post(client, body, headers).json()["outcome"] == "unknown_payment"


def test_unknown_provider_is_404(client):
    assert client.post("/commerce/payments/stripe/callback", data=b"{}", content_type="application/json")\
        .status_code == 404


def test_the_customer_pays_on_the_checkout_page_without_logging_in(client, awaiting):
    order, payment = awaiting
    page = client.get(reverse("commerce:fake-checkout", args=[payment.reference]))
    assert page.status_code == 200 and b"IDR 150,000" in page.content
    response = client.post(reverse("commerce:fake-checkout", args=[payment.reference]), {"outcome": "succeeded"})
    assert b"Payment received" in response.content
    assert Order.objects.get(pk=order.pk).status == "paid"
    again = client.post(reverse("commerce:fake-checkout", args=[payment.reference]), {"outcome": "succeeded"})
    assert again.status_code == 200
    assert Message.objects.filter(body__startswith="Payment received").count() == 1
    assert client.get(reverse("commerce:fake-checkout", args=["fake_unknown"])).status_code == 404


def test_paying_a_cancelled_order_is_recorded_for_a_refund(client, shop, awaiting):
    order, payment = awaiting
    orders.order_transition(user=shop.agent, order=order, to="cancelled")
    Payment.objects.filter(pk=payment.pk).update(status="pending")  # the customer had the page open
    body, headers = build_callback(reference=payment.reference, outcome="succeeded", amount="150000", currency="IDR")
    assert post(client, body, headers).json()["outcome"] == "ignored"
    assert Order.objects.get(pk=order.pk).status == "cancelled"
    assert order.events.filter(detail__contains="refund needed").exists()
