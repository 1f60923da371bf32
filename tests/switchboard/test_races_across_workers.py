"""Correct across processes: two real Celery worker processes racing on PostgreSQL + Redis.

Each worker consumes its own queue (``race-a``, ``race-b``) so that both surely get a task at the same moment,
plus the app's own queue for the work the tasks enqueue themselves.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.connections.models import Connection
from integrations.connections.tasks import refresh_token
from signals.models import SignalEvent
from signals.tasks import deliver_pending
from tests.connections.factories import make_tiktok_connection
from tests.factories import OrganizationFactory
from tests.fakes import oauth
from tests.fakes.tiktok import FakeTikTokAPI
from tests.processes import celery_worker, wait_until
from tests.signals.conftest import ACCESS_TOKEN, make_outbox_rows, make_shop

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

EVENTS = 120


def _log(worker) -> str:  # noqa: ANN001
    return worker.log_path.read_text(errors="replace")


def test_two_workers_delivering_the_signal_outbox_send_each_event_once():
    fake = FakeTikTokAPI(tokens=[ACCESS_TOKEN]).start()
    try:
        shop = make_shop(rules=False)
        make_outbox_rows(shop, EVENTS, event_ids=[f"race-{n}" for n in range(EVENTS)])
        env = {"TIKTOK_API_BASE": fake.base_url, "SIGNALS_BATCH_SIZE": "5", "OUTBOX_SWEEP_AFTER_SECONDS": "0"}
        with celery_worker("signals,race-a", **env) as first, celery_worker("signals,race-b", **env) as second:
            started = time.monotonic()
            deliver_pending.apply_async(queue="race-a")
            deliver_pending.apply_async(queue="race-b")
            wait_until(
                lambda: not SignalEvent.objects.exclude(status="delivered").exists(), timeout=30, interval=0.3,
                message="every event delivered",
            )  # fmt: skip
            elapsed = time.monotonic() - started
        counts = fake.event_ids()
        assert len(counts) == EVENTS
        assert max(counts.values()) == 1, [key for key, n in counts.items() if n > 1]
        # Both processes really delivered (each claims batches with SKIP LOCKED, never the same rows).
        assert "signals.deliver_pending" in _log(first) and "signals.deliver_pending" in _log(second)
        assert elapsed < 30
    finally:
        fake.stop()


def test_two_workers_hitting_an_expired_token_refresh_it_once():
    fake = oauth.FakeTikTokOAuth().start()
    try:
        fake.refresh_delay = 1.5  # a slow TikTok: both workers are surely inside the refresh at once
        connection = make_tiktok_connection(OrganizationFactory(), expires_in=timedelta(minutes=-5))
        stored = connection.channel.credential.stored_values()
        fake.access_tokens[stored["access_token"]] = connection.channel.account_id
        fake.refresh_tokens[stored["refresh_token"]] = connection.channel.account_id
        env = {
            "SANDBOX_OAUTH": "false", "TIKTOK_AUTH_BASE": fake.base_url, "TIKTOK_API_BASE": fake.base_url,
            "TIKTOK_CLIENT_KEY": oauth.CLIENT_KEY, "TIKTOK_CLIENT_SECRET": oauth.CLIENT_SECRET,
        }  # fmt: skip
        with celery_worker("race-a", **env) as first, celery_worker("race-b", **env) as second:
            refresh_token.apply_async((connection.pk,), queue="race-a")
            refresh_token.apply_async((connection.pk,), queue="race-b")
            wait_until(
                lambda: _log(first).count("succeeded") and _log(second).count("succeeded"), timeout=30,
                message="both refresh tasks finished",
            )  # fmt: skip
        assert fake.refresh_calls == 1
        outcomes = sorted(
            next(w for w in ("'refreshed'", "'locked'", "'not_due'") if w in _log(worker)) for worker in (first, second)
        )
        assert outcomes[1] == "'refreshed'" and outcomes[0] in ("'locked'", "'not_due'")
        connection.refresh_from_db()
        assert connection.status == Connection.Status.ACTIVE
        assert connection.access_expires_at > timezone.now() + timedelta(hours=1)
    finally:
        fake.stop()
