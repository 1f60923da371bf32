"""Benchmark: signal delivery from the outbox to a fake TikTok Events API, and keyword matching.

Run: ``.venv/bin/python bench/signals.py [--events N] [--batch-size N] [--skip-matching]``
On PostgreSQL: ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db> .venv/bin/python bench/signals.py``

Delivery: N pending ``SignalEvent`` rows are delivered by ``signals.services.delivery.signals_deliver_pending``
(claim, build, post, record, in batches of ``--batch-size``), the function the ``signals.deliver_pending`` task
runs, in its production configuration: ``SIGNALS_DELIVERY_CONCURRENCY`` claimer threads on one account (default
4; ``--claimers`` overrides it for a comparison), to ``tests.fakes.tiktok.FakeTikTokAPI`` served by a
child process on loopback (TikTok does not share our interpreter lock; the fake validates and records every
event, and the bench checks it accepted exactly N). The baseline, in the same run and to the same server, is the
floor of raw HTTP posts: ``httpx`` posting one pre-built event per request, no database. The database is
``DATABASE_URL`` when set (migrated; rows are created under a throw-away organization and deleted afterwards),
else a temporary SQLite file. Keyword matching: ``bench/signals_matching.py`` (10,000 keywords against a regex
alternation). Target (issue "Signals to TikTok"): at least 5,000 events/s delivered. Prints PASS or MISS.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_EVENTS_PER_SECOND = 5_000


def _setup_django() -> str:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "switchboard.settings")
    os.environ.pop("REDIS_URL", None)  # no broker: the bench calls the services directly
    where = os.environ.get("DATABASE_URL", "")
    if not where:
        path = Path(tempfile.mkdtemp(prefix="bench-signals-")) / "bench.sqlite3"
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
        os.environ["BENCH_TEMPORARY_DB"] = "1"
        where = f"temporary SQLite {path}"
    import django
    from django.core.management import call_command

    django.setup()
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)
    call_command("migrate", verbosity=0)
    return where.split("@")[-1]


def _floor(base_url: str, token: str, requests: int) -> float:
    """Raw posts, one event each, to the same fake: requests (= events) per second."""
    import httpx

    from signals.payloads import encode_body

    bodies = [
        encode_body({"event_source": "MESSAGE", "event_source_id": "ES-BENCH", "partner_name": "Switchboard",
                     "data": [{"event": "Contact", "event_time": 1795435200, "event_id": uuid.uuid4().hex,
                               "user": {}}]})
        for _ in range(requests)
    ]  # fmt: skip
    headers = {"Access-Token": token, "Content-Type": "application/json"}
    with httpx.Client(timeout=10) as client:
        client.post(base_url + "/open_api/v1.3/event/track/", content=bodies[0], headers=headers)  # warm up
        started = time.perf_counter()
        for body in bodies:
            response = client.post(base_url + "/open_api/v1.3/event/track/", content=body, headers=headers)
            assert response.json()["code"] == 0
        return requests / (time.perf_counter() - started)


_SERVE_FAKE = """
import sys
from tests.fakes.server import Reply
from tests.fakes.tiktok import FakeTikTokAPI

class Counting(FakeTikTokAPI):
    # Only the count is kept: a recorded copy of every request would grow the child for nothing.
    def handle(self, request):
        if request.path == "/bench/count/":
            return Reply(200, {"events": len(self.events)})
        reply = super().handle(request)
        self.requests.clear()
        return reply

fake = Counting(tokens=[sys.argv[1]]).start()
print(fake.base_url, flush=True)
sys.stdin.read()  # serve until the parent closes our stdin
"""


class _FakeProcess:
    """``FakeTikTokAPI`` in a child process, stopped when the bench ends (its stdin closes)."""

    def __init__(self, token: str) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-c", _SERVE_FAKE, token], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        assert self._process.stdout is not None
        self.base_url = self._process.stdout.readline().strip()
        assert self.base_url.startswith("http://127.0.0.1:"), self.base_url

    def accepted_events(self) -> int:
        import httpx

        return int(httpx.get(self.base_url + "/bench/count/", timeout=10).json()["events"])

    def stop(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()


def _deliver(events: int, batch_size: int, claimers: int | None = None) -> tuple[float, int, int]:
    from django.conf import settings
    from django.utils import timezone

    from inbox.models import Organization
    from signals.client import EventsAPIClient
    from signals.models import SignalEvent
    from signals.services import accounts, delivery
    from switchboard.http import RetryPolicy

    token = "bench-token"
    fake = _FakeProcess(token)
    organization = Organization.objects.create(name="Bench", slug=f"bench-{uuid.uuid4().hex[:8]}")
    try:
        account = accounts.advertiser_connect(
            organization=organization, name="Bench", event_set_id="ES-BENCH", access_token=token
        )
        now = timezone.now()
        SignalEvent.objects.bulk_create(
            [
                SignalEvent(organization=organization, advertiser_account=account, trigger="keyword_flag",
                            event_name="QualifiedLead", event_id=uuid.uuid4().hex, event_time=now,
                            flags=["payment"], user_ids={"external_id": uuid.uuid4().hex * 2})
                for _ in range(events)
            ],
            batch_size=2000,
        )  # fmt: skip
        settings.SIGNALS_BATCH_SIZE = batch_size
        with EventsAPIClient(fake.base_url, retry=RetryPolicy(attempts=1)) as client:
            started = time.perf_counter()
            run = delivery.signals_deliver_pending(client=client, time_budget=3600, concurrency=claimers)
            elapsed = time.perf_counter() - started
        assert run.delivered == events, run
        assert fake.accepted_events() == events
        rate = events / elapsed
        floor = _floor(fake.base_url, token, min(2000, events))
        return rate, run.batches, int(floor)
    finally:
        fake.stop()
        if not os.environ.get("BENCH_TEMPORARY_DB"):  # a real database: remove what the run created
            from signals.models import SignalDelivery

            SignalDelivery.objects.filter(advertiser_account__organization=organization).delete()
            SignalEvent.objects.filter(organization=organization).delete()
            try:
                organization.delete()
            except Exception as exc:  # other apps' tables may lag behind their models in a shared database
                print(f"  (could not delete the bench organization {organization.slug}: {exc.__class__.__name__})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--claimers", type=int, default=None, help="default: SIGNALS_DELIVERY_CONCURRENCY")
    parser.add_argument("--skip-matching", action="store_true")
    args = parser.parse_args()

    database = _setup_django()
    print(f"Signal delivery, outbox -> fake TikTok Events API on loopback ({database})")
    from signals.services.delivery import delivery_concurrency

    claimers = args.claimers or delivery_concurrency()
    rate, batches, floor = _deliver(args.events, args.batch_size, claimers)
    print(f"  delivered      {args.events:>8,} events in {batches:,} requests of {args.batch_size} "
          f"({claimers} claimers): {rate:>10,.0f} events/s")  # fmt: skip
    print(f"  floor (1 event per raw HTTP post, no database):        {floor:>10,.0f} events/s")
    print(f"  ratio delivered / floor: {rate / floor:.1f}x")
    print(f"  {'PASS' if rate >= TARGET_EVENTS_PER_SECOND else 'MISS'}: delivered {rate:,.0f} events/s, "
          f"target >= {TARGET_EVENTS_PER_SECOND:,} events/s")  # fmt: skip
    status = 0 if rate >= TARGET_EVENTS_PER_SECOND else 1
    if not args.skip_matching:
        print()
        from bench import signals_matching

        saved = sys.argv
        sys.argv = [saved[0]]
        try:
            status |= signals_matching.main()
        finally:
            sys.argv = saved
    return status


if __name__ == "__main__":
    sys.exit(main())
