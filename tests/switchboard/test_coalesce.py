"""switchboard.coalesce.Coalescer: every item published once, batches that follow the load."""

from __future__ import annotations

import threading
import time

import pytest

from switchboard.coalesce import SUSTAINED_GAPS, Coalescer

pytestmark = [pytest.mark.core]


def test_an_item_alone_goes_out_at_once_and_alone():
    batches: list[list[int]] = []
    coalescer = Coalescer(batches.append)
    for item in range(5):
        coalescer.submit(item)
        coalescer.flush()
    assert batches == [[0], [1], [2], [3], [4]]


def test_items_arriving_during_a_slow_publish_go_out_together_each_once_in_order():
    batches: list[list[tuple[int, int]]] = []

    def slow_publish(batch: list[tuple[int, int]]) -> None:
        time.sleep(0.01)
        batches.append(batch)

    coalescer = Coalescer(slow_publish, max_batch=50)

    def producer(thread: int) -> None:
        for n in range(200):
            coalescer.submit((thread, n))

    threads = [threading.Thread(target=producer, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    coalescer.flush(timeout=30)

    published = [item for batch in batches for item in batch]
    assert sorted(published) == [(t, n) for t in range(4) for n in range(200)]  # each once
    for thread in range(4):
        assert [n for t, n in published if t == thread] == list(range(200))  # a thread's items in order
    assert len(batches) < 800 / 4 and max(map(len, batches)) == 50  # batched, never beyond the cap


def test_a_failing_publish_is_logged_and_later_batches_still_go_out(caplog):
    batches: list[list[str]] = []

    def publish(batch: list[str]) -> None:
        if "bad" in batch:
            raise ConnectionError("broker down")
        batches.append(batch)

    coalescer = Coalescer(publish, name="test-coalescer")
    coalescer.submit("bad")
    coalescer.flush()
    coalescer.submit("good")
    coalescer.flush()
    assert batches == [["good"]]
    assert "could not publish a batch" in caplog.text


def test_under_sustained_traffic_an_item_lingers_for_company_but_an_isolated_one_does_not():
    published: list[tuple[float, list[int]]] = []
    coalescer = Coalescer(lambda batch: published.append((time.monotonic(), batch)), linger=0.5, max_batch=3)

    started = time.monotonic()
    coalescer.submit(0)  # nothing published before: isolated, out at once
    coalescer.flush()
    assert published[0][1] == [0] and published[0][0] - started < 0.25

    started = time.monotonic()  # right after a publish: sustained, so it waits for company
    coalescer.submit(1)
    time.sleep(0.05)
    coalescer.submit(2)
    coalescer.flush(timeout=5)
    assert published[1][1] == [1, 2] and published[1][0] - started >= 0.45

    started = time.monotonic()  # a full batch does not wait out the linger
    for item in (3, 4, 5):
        coalescer.submit(item)
    coalescer.flush(timeout=5)
    assert published[2][1] == [3, 4, 5] and published[2][0] - started < 0.25

    time.sleep(SUSTAINED_GAPS * 0.5 + 0.1)  # quiet again: isolated
    started = time.monotonic()
    coalescer.submit(6)
    coalescer.flush(timeout=5)
    assert published[3][1] == [6] and published[3][0] - started < 0.25
