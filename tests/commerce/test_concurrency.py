"""No double booking under real concurrency: several processes book the same time on PostgreSQL at once."""

from __future__ import annotations

import subprocess
import sys

import pytest

from inbox.commerce.models import Reservation
from tests.commerce.conftest import at_hour
from tests.factories import make_conversation
from tests.processes import ROOT, child_env

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

PROCESSES = 6


@pytest.mark.parametrize("mode", ["service", "raw"])
def test_exactly_one_of_several_processes_wins(shop, mode):
    when = at_hour(days=2)
    conversations = [make_conversation(shop.channel, customer_id=f"rush-{i}", name=f"Rush {i}")
                     for i in range(PROCESSES)]
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.commerce.book_worker", mode, str(shop.agent.pk), str(c.pk),
             str(shop.table.pk), when.isoformat()],
            cwd=ROOT, env=child_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )
        for c in conversations
    ]
    for worker in workers:  # every process set up and connected before anyone books
        line = worker.stdout.readline().strip()
        assert line == "READY", (line, worker.stderr.read()[-2000:] if worker.poll() is not None else "")
    for worker in workers:
        worker.stdin.write("go\n")
        worker.stdin.flush()
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err[-2000:]
        results.append(out.strip())
    assert sum(r == "WON" for r in results) == 1, results
    assert all(r == "WON" or r.startswith("LOST") for r in results), results
    assert Reservation.objects.filter(resource=shop.table, status__in=Reservation.BLOCKING_STATUSES).count() == 1
