"""End to end: a customer's message with a keyword gets the auto-reply delivered to the provider exactly once.

The sandbox provider is a real adapter whose mailbox records what it was sent (``SandboxMessage``), so the whole
path runs: signed webhook -> stored delivery -> message -> ``message.received`` after commit -> task
``automation.evaluate_message`` -> ``message_send_automated`` -> ``integrations.send_outbound`` -> adapter.
The core test runs tasks in-process (embedded default); the services test runs a real Celery worker on Redis.
"""

from __future__ import annotations

import contextlib

import pytest
from django.conf import settings

from inbox.automation.models import RuleRun
from inbox.automation.tasks import evaluate_message
from inbox.models import Message
from integrations.models import SandboxMessage
from integrations.sandbox.services import simulator_customer_writes
from tests.automation.factories import make_rule, make_shop
from tests.processes import celery_worker, wait_until


def business_replies(channel) -> list[str]:
    return list(
        SandboxMessage.objects.filter(channel=channel, side=SandboxMessage.Side.BUSINESS)
        .order_by("id")
        .values_list("text", flat=True)
    )


@pytest.mark.core
@pytest.mark.django_db(transaction=True)
def test_keyword_message_gets_the_auto_reply_delivered_exactly_once():
    shop = make_shop()
    make_rule(
        shop, "Price", keywords=["harga", "price"], reply="Hi {{contact.first_name}}! Prices: shop.example/prices"
    )
    make_rule(shop, "Ignored", keywords=["promo"], reply="Promo!")

    # Embedded: tasks run in-process after commit. With Redis configured, a real worker runs them.
    with celery_worker() if settings.REDIS_URL else contextlib.nullcontext():
        simulator_customer_writes(
            channel=shop.channel, customer_id="6281234567890", customer_name="Siti Aminah", text="Berapa HARGA-nya kak?"
        )
        wait_until(lambda: business_replies(shop.channel), timeout=30, message="the auto-reply at the provider")
        wait_until(lambda: Message.objects.filter(status=Message.Status.SENT).exists(), timeout=10)
    assert business_replies(shop.channel) == ["Hi Siti! Prices: shop.example/prices"]
    reply = Message.objects.get(sender_type=Message.SenderType.AUTOMATION)
    assert reply.status == Message.Status.SENT and reply.metadata["automation"]["matched"] == ["harga"]

    # A redelivered task (broker retry, sweep) changes nothing: one run, one reply.
    inbound = Message.objects.get(direction=Message.Direction.INBOUND)
    evaluate_message.apply(args=[inbound.pk])
    assert RuleRun.objects.count() == 1
    assert business_replies(shop.channel) == ["Hi Siti! Prices: shop.example/prices"]


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_keyword_auto_reply_through_a_real_worker_exactly_once():
    shop = make_shop()
    make_rule(shop, "Price", keywords=["price"], reply="Prices: shop.example/prices")
    with celery_worker():
        simulator_customer_writes(channel=shop.channel, customer_id="c-1", customer_name="Ana", text="price please")
        wait_until(lambda: business_replies(shop.channel), timeout=30, message="the auto-reply at the provider")
        inbound = Message.objects.get(direction=Message.Direction.INBOUND)
        evaluate_message.delay(inbound.pk)  # the same task again, through the broker
        wait_until(lambda: Message.objects.filter(status=Message.Status.SENT).count() == 1, timeout=15)
    assert business_replies(shop.channel) == ["Prices: shop.example/prices"]
    assert RuleRun.objects.count() == 1
