"""Several claimers at once (issue 13): SKIP LOCKED hands each its own rows, so every event reaches TikTok once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.db import connection, transaction

from signals.client import EventsAPIClient
from signals.models import AdvertiserAccount, SignalDelivery, SignalEvent
from signals.services import accounts, delivery
from switchboard.http import RetryPolicy
from tests.connections.concurrency import at_once
from tests.fakes.tiktok import FakeTikTokAPI
from tests.signals.conftest import make_outbox_rows, make_shop

ON_POSTGRESQL = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
postgresql_only = pytest.mark.skipif(not ON_POSTGRESQL, reason="SKIP LOCKED claims need PostgreSQL")


def client(fake: FakeTikTokAPI) -> EventsAPIClient:
    return EventsAPIClient(fake.base_url, timeout=5, retry=RetryPolicy(attempts=1), sleep=lambda s: None)


def posting_threads(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """The names of the threads that posted a batch (to prove the claimers really overlapped)."""
    names: set[str] = set()
    track = EventsAPIClient.track

    def recording(self: EventsAPIClient, body: bytes, *, access_token: str):
        names.add(threading.current_thread().name)
        return track(self, body, access_token=access_token)

    monkeypatch.setattr(EventsAPIClient, "track", recording)
    return names


def assert_each_delivered_once(fake: FakeTikTokAPI, event_ids: list[str]) -> None:
    assert sorted(event_id for _, event_id in fake.event_ids()) == sorted(event_ids)
    assert set(fake.event_ids().values()) == {1}
    assert set(SignalEvent.objects.values_list("status", "attempts")) == {("delivered", 1)}
    assert sum(SignalDelivery.objects.values_list("event_count", flat=True)) == len(event_ids)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_claimers_of_one_account_deliver_each_row_once(fake_tiktok, settings, monkeypatch):
    settings.SIGNALS_BATCH_SIZE = 4
    shop = make_shop()
    event_ids = make_outbox_rows(shop, 60)
    fake_tiktok.delay_next(0.05, times=15)  # each answer takes a while: the claimers' batches overlap
    posters = posting_threads(monkeypatch)
    with client(fake_tiktok) as c:
        run = delivery.signals_deliver_pending(client=c, time_budget=30, concurrency=4)
    assert (run.delivered, run.batches, run.retried, run.dead) == (60, 15, 0, 0)
    assert len(posters) > 1, posters
    assert_each_delivered_once(fake_tiktok, event_ids)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_deliver_each_row_once(fake_tiktok, settings):
    """Two worker threads each running ``signals.deliver_pending`` (the Procfile's signals worker has two)."""
    settings.SIGNALS_BATCH_SIZE = 5
    shop = make_shop()
    event_ids = make_outbox_rows(shop, 80)
    fake_tiktok.delay_next(0.02, times=16)
    runs: list[delivery.RunResult] = []

    def one_run() -> None:
        with client(fake_tiktok) as c:
            runs.append(delivery.signals_deliver_pending(client=c, time_budget=30, concurrency=2))

    at_once(one_run, callers=2)
    assert len(runs) == 2 and sum(run.delivered for run in runs) == 80
    assert_each_delivered_once(fake_tiktok, event_ids)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_claimer_failure_is_raised_after_the_others_stop(fake_tiktok, settings, monkeypatch):
    settings.SIGNALS_BATCH_SIZE = 2
    shop = make_shop()
    make_outbox_rows(shop, 20)
    encode, calls = delivery.encode_body, []

    def failing_once(body):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("a bug in one batch")
        return encode(body)

    monkeypatch.setattr(delivery, "encode_body", failing_once)
    with client(fake_tiktok) as c, pytest.raises(RuntimeError, match="a bug in one batch"):
        delivery.signals_deliver_pending(client=c, time_budget=30, concurrency=3)
    # The failed batch's rows keep their lease ("sending") until it runs out, then go again; nothing doubled.
    assert SignalEvent.objects.filter(status="sending").count() == 2
    assert set(fake_tiktok.event_ids().values()) <= {1}


@pytest.mark.core
@pytest.mark.django_db
def test_inside_a_transaction_there_is_one_claimer_on_the_callers_connection(shop, fake_tiktok, monkeypatch):
    def no_thread(*args, **kwargs):
        raise AssertionError("a claimer thread could not see the caller's uncommitted rows")

    monkeypatch.setattr(delivery, "threading", SimpleNamespace(Thread=no_thread, Lock=threading.Lock))
    event_ids = make_outbox_rows(shop, 7)
    with transaction.atomic(), client(fake_tiktok) as c:
        assert connection.in_atomic_block
        run = delivery.signals_deliver_pending(client=c, time_budget=10, concurrency=4)
    assert run.delivered == 7
    assert_each_delivered_once(fake_tiktok, event_ids)


@pytest.mark.core
@pytest.mark.django_db
def test_event_time_is_whole_unix_seconds_rounded_down(shop, fake_tiktok):
    make_outbox_rows(shop, 1, event_time=datetime(2026, 11, 23, 12, 0, 0, 999_999, tzinfo=UTC))
    with client(fake_tiktok) as c:
        assert delivery.signals_deliver_pending(client=c, time_budget=10).delivered == 1
    [event] = fake_tiktok.events
    assert event["event_time"] == 1795435200


@pytest.mark.core
@pytest.mark.django_db
def test_each_batch_reads_the_current_token(shop, fake_tiktok):
    """An admin who pastes a new token while a run holds the account: the next batch already uses it."""
    stale = AdvertiserAccount.objects.get(pk=shop.account.pk)  # loaded with the old token
    accounts.advertiser_update(
        account=shop.account, event_set_id="ES-2", event_source="MESSAGE", test_event_code="", access_token="new-token"
    )
    fake_tiktok.events_tokens = {"new-token"}
    make_outbox_rows(shop, 3)
    with client(fake_tiktok) as c:
        result = delivery.signals_deliver_batch(account=stale, client=c)
    assert (result.outcome, result.claimed) == ("ok", 3)
    assert {e["event_source_id"] for e in fake_tiktok.events} == {"ES-2"}
    assert fake_tiktok.requests_to("/event/track/")[0].headers["access-token"] == "new-token"
