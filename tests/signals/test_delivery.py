"""Delivery of the outbox to a fake TikTok Events API on loopback: batching, retries, dead letters, replay."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from signals.client import EventsAPIClient
from signals.models import AdvertiserAccount, SignalDelivery, SignalEvent
from signals.services import accounts, delivery
from switchboard.http import RetryPolicy
from tests.fakes.tiktok import FakeTikTokAPI
from tests.signals.conftest import Shop, make_shop

pytestmark = [pytest.mark.core, pytest.mark.django_db]


def client(fake: FakeTikTokAPI, timeout: float = 2.0, attempts: int = 1) -> EventsAPIClient:
    return EventsAPIClient(
        fake.base_url, timeout=timeout, retry=RetryPolicy(attempts=attempts, base_delay=0.0), sleep=lambda s: None
    )


def fill(shop: Shop, conversations: int) -> None:
    for n in range(conversations):
        shop.receive(f"hi #TT-camp{n:06d} payment", customer=f"c{n}")


def make_due() -> None:
    SignalEvent.objects.filter(status="pending").update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def run(fake: FakeTikTokAPI, **kw) -> delivery.RunResult:
    with client(fake, **kw) as c:
        return delivery.signals_deliver_pending(client=c, time_budget=10)


def test_delivers_pending_rows_with_the_documented_shape(shop: Shop, fake_tiktok: FakeTikTokAPI):
    fill(shop, 2)
    result = run(fake_tiktok)
    assert result.delivered == 4
    assert SignalEvent.objects.filter(status="delivered").count() == 4
    assert sorted(e["event"] for e in fake_tiktok.events) == ["Contact", "Contact", "QualifiedLead", "QualifiedLead"]
    request = fake_tiktok.requests_to("/event/track/")[0]
    assert request.headers["access-token"] == "signals-test-token"
    body = request.json()
    assert (body["event_source"], body["event_source_id"], body["partner_name"], body["test_event_code"]) == (
        "MESSAGE",
        "ES-1",
        "Switchboard",
        "TEST42",
    )
    [log] = SignalDelivery.objects.all()
    assert log.request_body.encode() == request.body  # exactly as sent
    assert log.outcome == "delivered" and log.event_count == 4 and '"code": 0' in log.response_body


def test_batch_size_is_respected(shop: Shop, fake_tiktok: FakeTikTokAPI, settings):
    settings.SIGNALS_BATCH_SIZE = 3
    fill(shop, 4)  # 8 events
    run(fake_tiktok)
    assert [len(r.json()["data"]) for r in fake_tiktok.requests] == [3, 3, 2]
    assert len(fake_tiktok.event_ids()) == 8


def test_throttling_then_success_delivers_once(shop: Shop, fake_tiktok: FakeTikTokAPI):
    fill(shop, 1)
    fake_tiktok.throttle_next(times=3)
    for _ in range(3):
        result = run(fake_tiktok)
        assert result.retried == 2
        row = SignalEvent.objects.first()
        assert row.status == "pending" and row.next_attempt_at > timezone.now() and "40100" in row.last_error
        assert not run(fake_tiktok).batches  # backing off: not due yet
        make_due()
    assert run(fake_tiktok).delivered == 2
    assert set(fake_tiktok.event_ids().values()) == {1}
    assert SignalEvent.objects.filter(status="delivered", attempts=4).count() == 2


def test_backoff_grows_exponentially_with_jitter(settings):
    settings.SIGNALS_RETRY_BASE_SECONDS = 10
    settings.SIGNALS_RETRY_MAX_SECONDS = 1000
    assert 5 <= delivery.backoff(1).total_seconds() < 15
    assert 20 <= delivery.backoff(3).total_seconds() < 60
    assert delivery.backoff(30).total_seconds() < 1500


def test_server_errors_retry_then_dead_letter_after_max_attempts(shop: Shop, fake_tiktok: FakeTikTokAPI, settings):
    settings.SIGNALS_MAX_ATTEMPTS = 3
    fill(shop, 1)
    fake_tiktok.fail_next(503, times=10)
    for _ in range(3):
        run(fake_tiktok)
        make_due()
    rows = list(SignalEvent.objects.all())
    assert {r.status for r in rows} == {"dead"}
    assert all("gave up after 3 attempts" in r.last_error for r in rows)
    assert not fake_tiktok.events


def test_timeout_is_transient(db, settings):
    fake = FakeTikTokAPI(tokens=["signals-test-token"]).start()  # its own server: a sleeping answer lands late
    try:
        settings.TIKTOK_API_BASE = fake.base_url
        shop = make_shop()
        fill(shop, 1)
        fake.delay_next(1.0)
        result = run(fake, timeout=0.2)
        assert result.retried == 2
        assert "did not answer in time" in SignalEvent.objects.first().last_error
        make_due()
        assert run(fake).delivered == 2
    finally:
        fake.stop()


def test_invalid_token_dead_letters_and_needs_reconnection(shop: Shop, fake_tiktok: FakeTikTokAPI):
    fill(shop, 2)
    fake_tiktok.events_tokens = {"another-token"}
    run(fake_tiktok)
    shop.account.refresh_from_db()
    assert shop.account.status == AdvertiserAccount.Status.NEEDS_RECONNECTION
    assert "40105" in shop.account.status_reason
    assert SignalEvent.objects.filter(status="dead").count() == 4
    # Reconnect with the right token, replay the dead letters: delivered once each.
    fake_tiktok.events_tokens = {"fresh-token"}
    accounts.advertiser_update(
        account=shop.account,
        event_set_id="ES-1",
        event_source="MESSAGE",
        test_event_code="",
        access_token="fresh-token",
    )
    assert delivery.signal_events_replay(organization_id=shop.organization.pk) == 4
    assert run(fake_tiktok).delivered == 4
    assert len(fake_tiktok.event_ids()) == 4 and set(fake_tiktok.event_ids().values()) == {1}


def test_invalid_params_are_permanent(shop: Shop, fake_tiktok: FakeTikTokAPI):
    fill(shop, 1)
    fake_tiktok.error_next(40002, "data[0].event: bad")
    run(fake_tiktok)
    assert {r.last_error for r in SignalEvent.objects.all()} == {"TikTok answered code 40002: data[0].event: bad"}
    assert SignalDelivery.objects.get().outcome == "dead"


def test_disconnect_stops_delivery_and_keeps_history(shop: Shop, fake_tiktok: FakeTikTokAPI):
    fill(shop, 1)
    run(fake_tiktok)
    SignalEvent.objects.create(
        organization=shop.organization,
        advertiser_account=shop.account,
        trigger="order_paid",
        event_name="CompletePayment",
        event_id="manual-1",
        event_time=timezone.now(),
    )
    accounts.advertiser_disconnect(account=shop.account)
    fake_tiktok.reset()
    assert run(fake_tiktok).batches == 0
    assert not fake_tiktok.requests
    assert SignalEvent.objects.filter(status="pending").count() == 1
    assert SignalDelivery.objects.count() == 1 and SignalEvent.objects.filter(status="delivered").count() == 2
    accounts.advertiser_reconnect(account=shop.account)
    assert run(fake_tiktok).delivered == 1


def test_disconnect_between_claim_and_post_releases_the_rows(shop: Shop, fake_tiktok: FakeTikTokAPI):
    fill(shop, 1)
    stale = AdvertiserAccount.objects.get(pk=shop.account.pk)  # status loaded as connected
    accounts.advertiser_disconnect(account=shop.account)
    result = delivery.signals_deliver_batch(account=stale, client=client(fake_tiktok))
    assert result.outcome == "paused" and not fake_tiktok.requests
    assert set(SignalEvent.objects.values_list("status", "attempts")) == {("pending", 0)}


def test_expired_sending_lease_is_claimed_again(shop: Shop, fake_tiktok: FakeTikTokAPI):
    fill(shop, 1)
    # A worker claimed the rows and died before posting: they stay "sending" until the lease ends.
    SignalEvent.objects.update(status="sending", attempts=1, next_attempt_at=timezone.now() + timedelta(minutes=2))
    assert run(fake_tiktok).batches == 0
    SignalEvent.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert run(fake_tiktok).delivered == 2
    assert set(SignalEvent.objects.values_list("attempts", flat=True)) == {2}


def test_sandbox_account_delivers_in_process(db):
    shop = make_shop(sandbox=True)
    fill(shop, 1)
    result = delivery.signals_deliver_pending(time_budget=5)
    assert result.delivered == 2
    log = SignalDelivery.objects.get()
    assert log.outcome == "delivered" and '"code": 0' in log.response_body


def test_sweep_counts_rows_waiting_too_long(shop: Shop):
    fill(shop, 1)
    assert delivery.signals_sweep(older_than=timedelta(minutes=5)) == 0
    SignalEvent.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=10))
    assert delivery.signals_sweep(older_than=timedelta(minutes=5)) == 2
