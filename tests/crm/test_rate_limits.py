"""HubSpot's rate limits: one budget shared by every worker, 429s honoured (Retry-After, X-HubSpot-RateLimit-*),
and transient failures retried with backoff."""

from __future__ import annotations

import threading
import time

import pytest

from integrations.crm.hubspot.client import HubSpotClient, HubSpotError
from integrations.crm.limiter import Limit, SharedRateLimiter
from tests.crm.conftest import TOKEN

pytestmark = [pytest.mark.core]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_sliding_log_allows_the_limit_then_says_how_long_to_wait():
    clock = Clock()
    limiter = SharedRateLimiter(clock=clock)
    limit = Limit("burst", 5, 10.0)
    assert [limiter.try_acquire("p", limit) for _ in range(5)] == [0.0] * 5
    clock.now += 4
    assert limiter.try_acquire("p", limit) == pytest.approx(6.0)  # the first slot frees at 1010
    clock.now += 6.01
    assert limiter.try_acquire("p", limit) == 0.0
    assert limiter.try_acquire("other-portal", limit) == 0.0  # portals do not share a budget


def test_a_block_from_a_429_stops_every_caller_of_the_portal():
    clock = Clock()
    limiter = SharedRateLimiter(clock=clock)
    limiter.block("p", 2.5)
    assert SharedRateLimiter(clock=clock).try_acquire("p", Limit("burst", 100, 10)) == pytest.approx(2.5)


def _hammer(hubspot, settings, *, threads: int, calls: int) -> float:
    errors: list[Exception] = []

    def work() -> None:
        with HubSpotClient(token=TOKEN, limiter_key="portal-shared", base_url=hubspot.base_url, max_wait=10) as c:
            for _ in range(calls):
                try:
                    c.object_get("contacts", "missing", ["email"])
                except HubSpotError as exc:
                    if exc.status != 404:
                        errors.append(exc)

    started = time.monotonic()
    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    return time.monotonic() - started


def test_two_workers_sharing_the_limiter_never_exceed_hubspots_window(hubspot, settings):
    hubspot.burst_limit, hubspot.burst_window = 6, 1.0
    # Our budget sits below HubSpot's, as in production (90 of 100): requests arrive with some jitter.
    settings.HUBSPOT_BURST_LIMIT, settings.HUBSPOT_BURST_WINDOW_SECONDS = 4, 1.0
    elapsed = _hammer(hubspot, settings, threads=2, calls=6)
    assert hubspot.rate_limited == 0
    assert len(hubspot.requests) == 12
    assert elapsed >= 2.0  # 12 requests at 4 per second need at least three windows


def test_without_a_shared_budget_the_fake_does_throttle_and_the_client_recovers(hubspot, settings):
    hubspot.burst_limit, hubspot.burst_window = 6, 1.0
    settings.HUBSPOT_BURST_LIMIT, settings.HUBSPOT_BURST_WINDOW_SECONDS = 1000, 1.0
    _hammer(hubspot, settings, threads=2, calls=8)
    assert hubspot.rate_limited > 0  # the control: the fake enforces its limit...
    assert len([r for r in hubspot.requests]) == 16 + hubspot.rate_limited  # ...and every 429 was retried


def test_a_429_is_retried_after_retry_after_and_blocks_the_portal(hubspot):
    hubspot.fail_next(
        429, headers={"Retry-After": "0.3"}, body={"status": "error", "policyName": "TEN_SECONDLY_ROLLING"}
    )
    limiter = SharedRateLimiter()
    with HubSpotClient(token=TOKEN, limiter_key="portal-x", base_url=hubspot.base_url, limiter=limiter) as client:
        started = time.monotonic()
        answer = client.contacts_search([{"filters": [{"propertyName": "email", "operator": "EQ", "value": "a@b.c"}]}],
                                        ["email"])  # fmt: skip
    assert answer == []
    assert time.monotonic() - started >= 0.3
    assert len(hubspot.requests) == 2


def test_5xx_then_success_and_a_long_retry_after_surfaces_for_rescheduling(hubspot):
    record = hubspot.add_contact({"email": "a@b.c"})
    hubspot.fail_next(502, times=2)
    with HubSpotClient(token=TOKEN, limiter_key="portal-y", base_url=hubspot.base_url, sleep=lambda s: None) as client:
        assert client.object_get("contacts", record.id, ["email"])["properties"]["email"] == "a@b.c"
        assert len(hubspot.requests) == 3
        hubspot.fail_next(429, headers={"Retry-After": "120"})
        with pytest.raises(HubSpotError) as caught:
            client.object_get("contacts", record.id, [])
    assert caught.value.transient and caught.value.retry_after == 120


_PROCESS_SCRIPT = """
import os, sys, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "switchboard.settings")
django.setup()
from integrations.crm.hubspot.client import HubSpotClient, HubSpotError
with HubSpotClient(token=sys.argv[2], limiter_key="portal-processes", base_url=sys.argv[1], max_wait=20) as client:
    for _ in range(int(sys.argv[3])):
        try:
            client.object_get("contacts", "missing", ["email"])
        except HubSpotError as exc:
            if exc.status != 404:
                raise
"""


@pytest.mark.services
def test_two_worker_processes_share_one_budget_through_redis(hubspot):
    """Two OS processes (as two Celery workers would be) draw from one Redis-held budget."""
    import subprocess
    import sys

    from tests.processes import ROOT, child_env

    hubspot.burst_limit, hubspot.burst_window = 6, 1.0
    env = child_env(HUBSPOT_BURST_LIMIT="4", HUBSPOT_BURST_WINDOW_SECONDS="1")
    started = time.monotonic()
    procs = [
        subprocess.Popen([sys.executable, "-c", _PROCESS_SCRIPT, hubspot.base_url, TOKEN, "6"], cwd=ROOT, env=env)
        for _ in range(2)
    ]
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    assert len(hubspot.requests) == 12 and hubspot.rate_limited == 0
    assert time.monotonic() - started >= 2.0
