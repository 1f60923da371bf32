"""switchboard.coalesce.Coalescer: every item published once, batches that follow the load."""

from __future__ import annotations

import threading
import time

import pytest

from switchboard.coalesce import Coalescer

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
