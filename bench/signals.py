"""Benchmark: signal delivery from the outbox to a fake TikTok Events API, and keyword matching.

Run: ``.venv/bin/python bench/signals.py [--events N] [--batch-size N] [--floor-requests N] [--skip-matching]``

Delivery: N pending ``SignalEvent`` rows are delivered by ``signals.services.delivery.signals_deliver_pending``
(claim, build, post, record, in batches of ``--batch-size``) to ``tests.fakes.tiktok.FakeTikTokAPI`` started in
this process on loopback. The baseline, in the same run and to the same server, is the floor of raw HTTP posts:
``httpx`` posting one pre-built event per request, no database. The database is ``DATABASE_URL`` when set (rows
are created under a throw-away organization and deleted afterwards), else a temporary SQLite file, migrated.
Keyword matching: ``bench/signals_matching.py`` (10,000 keywords against a regex alternation).
Target (issue "Signals to TikTok"): at least 5,000 events/s delivered.
"""

from __future__ import annotations

import argparse
import os
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


def _deliver(events: int, batch_size: int) -> tuple[float, int, int]:
    from django.conf import settings
    from django.utils import timezone

    from inbox.models import Organization
    from signals.client import EventsAPIClient
    from signals.models import SignalEvent
    from signals.services import accounts, delivery
    from switchboard.http import RetryPolicy
    from tests.fakes.tiktok import FakeTikTokAPI

    token = "bench-token"
    fake = FakeTikTokAPI(tokens=[token]).start()
    # The fake writes headers and body separately; without TCP_NODELAY, Nagle's algorithm and delayed ACKs add
    # ~40 ms to every keep-alive request, which would measure the kernel, not the code.
    fake._server.RequestHandlerClass.disable_nagle_algorithm = True  # type: ignore[union-attr]
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
            run = delivery.signals_deliver_pending(client=client, time_budget=3600)
            elapsed = time.perf_counter() - started
        assert run.delivered == events, run
        assert len(fake.events) == events
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
    parser.add_argument("--skip-matching", action="store_true")
    args = parser.parse_args()

    database = _setup_django()
    print(f"Signal delivery, outbox -> fake TikTok Events API on loopback ({database})")
    rate, batches, floor = _deliver(args.events, args.batch_size)
    print(f"  delivered      {args.events:>8,} events in {batches:,} requests of {args.batch_size}: "
          f"{rate:>10,.0f} events/s")  # fmt: skip
    print(f"  floor (1 event per raw HTTP post, no database):        {floor:>10,.0f} events/s")
    print(f"  ratio delivered / floor: {rate / floor:.1f}x   target >= {TARGET_EVENTS_PER_SECOND:,} events/s: "
          f"{'met' if rate >= TARGET_EVENTS_PER_SECOND else 'NOT met'}")  # fmt: skip
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
