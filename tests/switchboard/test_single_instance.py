"""``single_instance``: a short lease renewed while the holder runs, so a killed worker blocks the next sweep for
one lease, not for the whole ``ttl``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache

from switchboard.observability import single_instance

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.core
def test_a_running_holder_keeps_its_lock_past_the_lease():
    started = threading.Event()
    finish = threading.Event()

    @single_instance("test-renewed", ttl=60, lease=1)
    def sweep() -> str:
        started.set()
        finish.wait(5)
        return "ran"

    results: list = []
    holder = threading.Thread(target=lambda: results.append(sweep()))
    holder.start()
    assert started.wait(5)
    time.sleep(2.5)  # more than two leases: without renewal the lock would have expired
    assert sweep() is None  # still held
    finish.set()
    holder.join()
    assert results == ["ran"]
    assert sweep() == "ran"  # released at the end


@pytest.mark.core
def test_a_holder_that_stops_renewing_frees_the_lock_after_one_lease():
    # What a SIGKILLed worker leaves behind: its lock, with the lease it last wrote and nobody renewing it.
    cache.add("lock:test-abandoned", "dead-holder", 1)

    @single_instance("test-abandoned", ttl=300, lease=1)
    def sweep() -> str:
        return "ran"

    assert sweep() is None
    time.sleep(1.3)
    assert sweep() == "ran"


_HOLDER = """
import os, sys, time
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "switchboard.settings")
django.setup()
from switchboard.observability import single_instance

@single_instance("test-killed-worker", ttl=300, lease=1)
def sweep():
    print("holding", flush=True)
    time.sleep(60)

sweep()
"""


@pytest.mark.services
def test_a_killed_worker_holds_the_sweep_lock_for_one_lease_only():
    """A real worker process takes the lock in Redis, is SIGKILLed mid-run, and the sweep runs again within
    about one lease (1 s here), not after ``ttl`` (300 s)."""
    if not settings.REDIS_URL:
        pytest.skip("needs Redis: the lock must be shared between processes")
    child = subprocess.Popen(
        [sys.executable, "-c", _HOLDER], cwd=ROOT, stdout=subprocess.PIPE, text=True, env={**os.environ}
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "holding"

        @single_instance("test-killed-worker", ttl=300, lease=1)
        def sweep() -> str:
            return "ran"

        time.sleep(1.5)  # the child has renewed its lease at least once by now
        assert sweep() is None
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
        killed_at = time.monotonic()
        while sweep() is None:
            assert time.monotonic() - killed_at < 5, "the dead worker's lock outlived its lease"
            time.sleep(0.1)
    finally:
        if child.poll() is None:
            child.kill()
