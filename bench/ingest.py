"""Ingest benchmark: signed sandbox webhooks against a running Switchboard on PostgreSQL + Redis + a worker.

Prints deliveries acknowledged per second, acknowledgement p50/p95/p99, messages stored per second by the
worker, and checks every message is stored exactly once (5 % of deliveries are sent twice). The same open-loop
load is first sent to a floor measured in the same run: a bare Django view inserting one row.

    .venv/bin/python bench/ingest.py [--rate 500] [--seconds 10] [--server gunicorn|daphne]

Needs PostgreSQL and Redis on loopback (the machine's defaults); it creates and drops its own database.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
DB_NAME = "switchboard_bench"
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{DB_NAME}")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")


def env() -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": DATABASE_URL, "REDIS_URL": REDIS_URL, "ROOT_URLCONF": "bench.floor",
            "LOG_LEVEL": "WARNING", "DB_CONN_MAX_AGE": "60", "DJANGO_SETTINGS_MODULE": "switchboard.settings"}


def setup_database() -> None:
    admin = "postgres://postgres@127.0.0.1:5432/postgres"
    import psycopg

    with psycopg.connect(admin.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env(), check=True)


def make_channel() -> tuple[int, str, str]:
    os.environ.update(env())
    import django

    django.setup()
    from inbox.services.organizations import organization_create
    from integrations.services.channels import channel_create

    organization = organization_create(name="Bench", slug="bench")
    channel = channel_create(organization=organization, kind="sandbox", name="Bench sandbox")
    return channel.pk, channel.account_id, channel.credential.secrets().app_secret


def start(command: list[str], log: str) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=ROOT, env=env(), stdout=open(log, "w"), stderr=subprocess.STDOUT)  # noqa: SIM115


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"server at {url} did not start")


async def open_loop(
    url: str, bodies: list[tuple[bytes, dict[str, str]]], rate: float
) -> tuple[list[float], int, float]:
    """Send ``bodies`` at a constant arrival rate, whatever the answers' speed (no coordinated omission)."""
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(limits=limits, timeout=10) as client:
        async def one(body: bytes, headers: dict[str, str]) -> None:
            nonlocal errors
            started = time.perf_counter()
            try:
                response = await client.post(url, content=body, headers=headers)
                if response.status_code != 200:
                    errors += 1
            except httpx.HTTPError:
                errors += 1
            latencies.append((time.perf_counter() - started) * 1000)

        began = time.perf_counter()
        tasks = []
        for index, (body, headers) in enumerate(bodies):
            delay = began + index / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(body, headers)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - began
    return latencies, errors, elapsed


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def report(name: str, latencies: list[float], errors: int, elapsed: float) -> None:
    print(f"{name:<34} {len(latencies) / elapsed:8.0f} req/s  p50 {percentile(latencies, 50):6.1f} ms  "
          f"p95 {percentile(latencies, 95):6.1f} ms  p99 {percentile(latencies, 99):6.1f} ms  errors {errors}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--server", choices=["gunicorn", "daphne"], default="gunicorn")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()

    setup_database()
    channel_id, account_id, secret = make_channel()
    from integrations.sandbox.adapter import message_body, sign

    if args.server == "gunicorn":
        server_cmd = [str(BIN / "gunicorn"), "switchboard.wsgi:application", "-b", f"127.0.0.1:{args.port}",
                      "-w", "2", "--threads", "4", "--log-level", "warning"]
    else:
        server_cmd = [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(args.port), "switchboard.asgi:application"]
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    server = start(server_cmd, "/tmp/bench-server.log")
    # The worker runs niced: on 2 shared cores, acknowledging deliveries comes first and processing drains the
    # queue with what is left, which is the order of priorities the providers' retry rules ask for.
    worker = start(["nice", "-n", "15", str(BIN / "celery"), "-A", "switchboard", "worker", "-Q",
                    "ingest,default,outbound", "-c", "2",
                    "--loglevel", "WARNING", "--without-gossip", "--without-mingle"], "/tmp/bench-worker.log")
    base = f"http://127.0.0.1:{args.port}"
    try:
        wait_http(base + "/login/")
        count = int(args.rate * args.seconds)
        floor_bodies = [(b'{"floor": %d}' % i, {"Content-Type": "application/json"}) for i in range(count)]
        print(f"{args.server} (WSGI: 2 workers x 4 threads)" if args.server == "gunicorn" else "daphne (1 process)",
              f"- open-loop {args.rate:.0f} deliveries/s for {args.seconds:.0f}s, 2-core machine")
        report("floor: bare view inserting a row", *asyncio.run(open_loop(base + "/bench/floor/", floor_bodies,
                                                                           args.rate)))
        unique = []
        for i in range(count):
            body = message_body(account_id=account_id, events=[{
                "type": "message", "id": f"bench-{i}", "customer": {"id": f"c{i % 500}", "name": "Bench"},
                "text": f"message {i}", "timestamp": time.time()}])
            unique.append((body, {"Content-Type": "application/json", "X-Sandbox-Signature": sign(body, secret)}))
        duplicates = random.Random(7).sample(unique, max(1, count // 20))
        deliveries = unique + duplicates
        random.Random(8).shuffle(deliveries)
        started = time.perf_counter()
        report("signed webhook, verify+store+ack", *asyncio.run(open_loop(f"{base}/webhooks/sandbox/{channel_id}/",
                                                                          deliveries, args.rate)))
        from inbox.models import Message

        deadline = time.monotonic() + 120
        stored = 0
        while time.monotonic() < deadline:
            stored = Message.objects.count()
            if stored >= count:
                break
            time.sleep(0.2)
        stored_elapsed = time.perf_counter() - started
        distinct = Message.objects.values("external_id").distinct().count()
        print(f"{'stored by the worker':<34} {stored / stored_elapsed:8.0f} msg/s  ({stored} messages, "
              f"{distinct} distinct, {len(duplicates)} duplicate deliveries sent)")
        print("exactly once:", "yes" if stored == distinct == count else f"NO ({stored} stored of {count})")
    finally:
        for process in (server, worker):
            process.terminate()
            process.wait(timeout=15)


if __name__ == "__main__":
    main()
