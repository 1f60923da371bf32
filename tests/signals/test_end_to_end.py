"""End to end on PostgreSQL + Redis + a real Celery worker: webhook -> message -> outbox -> fake TikTok.

A referral message and a message containing "payment" produce exactly the expected events at the fake Events
API, once each, although the worker is SIGKILLed in the middle of a batch (while its request hangs at the
server) and restarted, and the server throttles for a while. The beat sweep is simulated by enqueueing
``signals.sweep`` every second, as ``celery beat`` would.

Exactly once at the wire holds here because the killed request is answered with throttling. A worker killed
after TikTok accepted a batch but before it recorded that would send it again with the same ``event_id``;
TikTok's 48-hour deduplication drops the repeat (see ``signals.services.delivery``).
"""

from __future__ import annotations

import time

import pytest

from integrations.sandbox.services import simulator_customer_writes
from signals.models import SignalEvent
from tests.fakes.server import Reply
from tests.fakes.tiktok import RATE_LIMITED, FakeTikTokAPI, envelope
from tests.processes import celery_worker, wait_until
from tests.signals.conftest import ACCESS_TOKEN, make_shop

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

WORKER_ENV = {
    "SIGNALS_RETRY_BASE_SECONDS": "0.3",
    "SIGNALS_SENDING_LEASE_SECONDS": "3",
    "OUTBOX_SWEEP_AFTER_SECONDS": "0",
    "PROVIDER_HTTP_TIMEOUT": "20",
}


def test_referral_and_keyword_reach_tiktok_once_despite_kill_and_throttling():
    fake = FakeTikTokAPI(tokens=[ACCESS_TOKEN]).start()
    try:
        shop = make_shop()
        env = {**WORKER_ENV, "TIKTOK_API_BASE": fake.base_url}
        # The first request hangs 4 s, then (too late for the killed worker) answers with throttling.
        fake.queue(Reply(status=200, body=envelope(RATE_LIMITED, "Too many requests."), delay=4.0))
        with celery_worker(**env) as worker:
            simulator_customer_writes(
                channel=shop.channel,
                customer_id="6281234567890",
                customer_name="Siti",
                text="Hi, I saw your ad",
                referral={"ad_id": "ad-77", "campaign_id": "ramadan", "click_id": "E.C.P.e2e-click-1"},
            )
            wait_until(lambda: fake.requests_to("/event/track/"), timeout=30, message="a first batch in flight")
            worker.kill()  # SIGKILL mid-batch: its rows stay "sending" until the lease runs out
            worker.wait()
        assert SignalEvent.objects.filter(status="sending").exists()

        fake.throttle_next(times=5)  # and the server throttles for a while
        with celery_worker(**env):
            simulator_customer_writes(
                channel=shop.channel, customer_id="6281234567890", customer_name="Siti",
                text="Can I do the payment by bank transfer?",
            )  # fmt: skip
            from signals.tasks import sweep

            def delivered() -> bool:
                sweep.delay()
                time.sleep(0.5)
                return SignalEvent.objects.exclude(status="delivered").count() == 0 and SignalEvent.objects.count() == 2

            wait_until(delivered, timeout=90, interval=0.5, message="both events delivered")

        counts = fake.event_ids()
        names = sorted(name for name, _ in counts)
        assert names == ["Contact", "QualifiedLead"]
        assert set(counts.values()) == {1}  # once each at the server
        contact = next(e for e in fake.events if e["event"] == "Contact")
        assert contact["user"]["ttclid"] == "E.C.P.e2e-click-1"
        lead = next(e for e in fake.events if e["event"] == "QualifiedLead")
        assert lead["properties"]["flags"] == ["payment"]
        assert SignalEvent.objects.get(event_name="Contact").attempts >= 2  # it survived the kill
        assert len(fake.requests_to("/event/track/")) > 3  # throttled requests came first
    finally:
        fake.stop()
