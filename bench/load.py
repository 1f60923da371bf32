"""Load benchmark: signed WhatsApp, Messenger and TikTok webhooks at a constant arrival rate, agents on websockets.

The production process model on PostgreSQL + Redis: gunicorn serves HTTP (webhooks), daphne serves the agents'
websockets, a Celery worker processes deliveries. ``--agents`` agents of one organization keep a websocket open
on the inbox while the open-loop generator posts signed deliveries (rotating the three providers, 50 customers
each). Every message text carries the time it was posted; each agent's socket reads it on arrival.

Prints, next to floors measured in the same run (a bare Django view inserting one row on the same gunicorn; a
raw Redis publish/subscribe round trip): throughput, acknowledgement p50/p95/p99, webhook-to-agent-websocket
latency p50/p95/p99, messages each agent missed, CPU and peak memory of each process, and the load average.

    .venv/bin/python bench/load.py [--rate 100] [--seconds 10] [--agents 20]

Loopback only, bounded by ``--rate x --seconds`` deliveries. Creates and drops its own database
(``switchboard_load``) and uses Redis db 10 (``BENCH_REDIS_URL`` to change).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
DB_NAME = "switchboard_load"
os.environ.setdefault("BENCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{DB_NAME}")
os.environ.setdefault("BENCH_REDIS_URL", "redis://127.0.0.1:6379/10")

from bench.ingest import REDIS_URL, env, percentile, start, wait_http  # noqa: E402

SECRET = "load-app-secret"
PROVIDERS = ("whatsapp", "messenger", "tiktok")


def setup_database() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env(), check=True)


def make_world(agents: int) -> tuple[dict[str, int], list[str]]:
    """Channels of the three providers and ``agents`` logged-in admins; returns channel ids and session keys."""
    os.environ.update(env())
    import django

    django.setup()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    from inbox.models import Membership, Role
    from inbox.services.organizations import organization_create
    from integrations.services.channels import channel_create
    from tests.integrations.conftest import KITS

    organization = organization_create(name="Load", slug="load")
    channels = {kind: channel_create(organization=organization, kind=kind, name=kind, account_id=KITS[kind].account_id,
                                     app_secret=SECRET, verify_token="v", access_token="t").pk for kind in PROVIDERS}
    sessions = []
    for n in range(agents):
        user = get_user_model().objects.create(username=f"agent{n}")
        Membership.objects.create(user=user, organization=organization, role=Role.ADMIN)
        session = SessionStore()
        session.update({SESSION_KEY: str(user.pk), BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
                        HASH_SESSION_KEY: user.get_session_auth_hash()})
        session.create()
        sessions.append(session.session_key)
    return channels, sessions


def delivery(index: int, channels: dict[str, int]) -> tuple[str, bytes, dict[str, str]]:
    """A signed delivery built at send time: its text carries the time it is posted."""
    from tests.integrations.conftest import KITS

    kind = PROVIDERS[index % 3]
    kit = KITS[kind]
    text = f"load {index} sent_ns={time.time_ns()}"
    body = kit.inbound(external_id=f"load-{kind}-{index}", text=text)
    body = body.replace(kit.customer_id.encode(), f"{kit.customer_id}{index % 50}".encode())
    headers = {"Content-Type": "application/json", **kit.sign(body, SECRET)}
    return f"/webhooks/{kind}/{channels[kind]}/", body, headers


async def open_loop(base: str, count: int, rate: float, build) -> tuple[list[float], int, float]:  # noqa: ANN001
    """Post ``count`` requests at a constant arrival rate, whatever the answers' speed."""
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=10) as client:
        async def one(index: int) -> None:
            nonlocal errors
            path, body, headers = build(index)
            started = time.perf_counter()
            try:
                response = await client.post(path, content=body, headers=headers)
                errors += response.status_code != 200
            except httpx.HTTPError:
                errors += 1
            latencies.append((time.perf_counter() - started) * 1000)

        began = time.perf_counter()
        tasks = []
        for index in range(count):
            delay = began + index / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(index)))
        await asyncio.gather(*tasks)
    return latencies, errors, time.perf_counter() - began


async def redis_round_trips(samples: int = 500) -> list[float]:
    """The floor of any websocket fan-out: publish on Redis, receive on a subscriber, in ms."""
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(REDIS_URL)
    pubsub = client.pubsub()
    await pubsub.subscribe("load-floor")
    await pubsub.get_message(timeout=1)  # the subscribe confirmation
    found = []
    for _ in range(samples):
        started = time.perf_counter()
        await client.publish("load-floor", b"x")
        while await pubsub.get_message(timeout=1) is None:
            pass
        found.append((time.perf_counter() - started) * 1000)
    await pubsub.aclose()
    await client.aclose()
    return found


class Agents:
    """``len(sessions)`` websockets on daphne, each recording the latency of every message it receives."""

    def __init__(self, ws_base: str, sessions: list[str]):
        self.ws_base, self.sessions = ws_base, sessions
        self.latencies: list[float] = []
        self.received = [0] * len(sessions)
        self.ready = asyncio.Event()
        self.stop = asyncio.Event()

    async def run(self) -> None:
        import websockets

        async def agent(n: int, session: str) -> None:
            async with websockets.connect(f"{self.ws_base}/ws/inbox/", origin=self.ws_base.replace("ws", "http", 1),
                                          additional_headers={"Cookie": f"sessionid={session}"},
                                          max_queue=None, open_timeout=30) as socket:
                await socket.recv()  # hello
                connected.append(n)
                if len(connected) == len(self.sessions):
                    self.ready.set()
                while not self.stop.is_set():
                    try:
                        raw = await asyncio.wait_for(socket.recv(), timeout=0.5)
                    except TimeoutError:
                        continue
                    now = time.time_ns()
                    event = json.loads(raw)
                    if event.get("event") != "message.received":
                        continue
                    text = (event["payload"].get("message") or {}).get("body", "")
                    if "sent_ns=" in text:
                        self.latencies.append((now - int(text.rsplit("sent_ns=", 1)[1])) / 1e6)
                        self.received[n] += 1

        connected: list[int] = []
        await asyncio.gather(*(agent(n, s) for n, s in enumerate(self.sessions)))


class Usage(threading.Thread):
    """CPU seconds and peak RSS of each process (children included), sampled every half second."""

    def __init__(self, processes: dict[str, subprocess.Popen]):
        super().__init__(daemon=True)
        import psutil

        self.tree = {name: psutil.Process(p.pid) for name, p in processes.items()}
        self.peak_rss = dict.fromkeys(self.tree, 0)
        self.cpu_start = {name: self._cpu(p) for name, p in self.tree.items()}
        self.started = time.monotonic()
        self.stopped = threading.Event()

    @staticmethod
    def _family(process):  # noqa: ANN001, ANN205
        return [process, *process.children(recursive=True)]

    def _cpu(self, process) -> float:  # noqa: ANN001
        return sum(sum(p.cpu_times()[:2]) for p in self._family(process))

    def run(self) -> None:
        while not self.stopped.wait(0.5):
            for name, process in self.tree.items():
                self.peak_rss[name] = max(self.peak_rss[name], sum(p.memory_info().rss for p in self._family(process)))

    def report(self) -> None:
        elapsed = time.monotonic() - self.started
        for name, process in self.tree.items():
            cpu = (self._cpu(process) - self.cpu_start[name]) / elapsed * 100
            print(f"  {name:<10} CPU {cpu:5.0f} % of one core   peak RSS {self.peak_rss[name] / 2**20:6.0f} MiB")


def line(name: str, values: list[float], extra: str = "") -> str:
    if not values:
        return f"{name:<44} no samples {extra}"
    return (f"{name:<44} p50 {percentile(values, 50):7.1f} ms  p95 {percentile(values, 95):7.1f} ms  "
            f"p99 {percentile(values, 99):7.1f} ms  {extra}")


async def measure(args: argparse.Namespace, http: str, ws: str, channels: dict[str, int], sessions: list[str],
                  usage: Usage) -> None:
    count = int(args.rate * args.seconds)
    floor = await open_loop(http, count, args.rate, lambda i: ("/bench/floor/", b'{"floor": %d}' % i,
                                                               {"Content-Type": "application/json"}))
    print(line("floor: bare view inserting a row (gunicorn)", floor[0],
               f"{len(floor[0]) / floor[2]:6.0f} req/s errors {floor[1]}"))
    print(line("floor: Redis publish -> subscriber round trip", await redis_round_trips()))

    agents = Agents(ws, sessions)
    runner = asyncio.create_task(agents.run())
    await asyncio.wait_for(agents.ready.wait(), timeout=60)
    usage.start()
    acks, errors, elapsed = await open_loop(http, count, args.rate, lambda i: delivery(i, channels))
    print(line("signed webhook ack (verify+store+ack)", acks, f"{len(acks) / elapsed:6.0f} req/s errors {errors}"))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and min(agents.received) < count - errors:
        await asyncio.sleep(0.2)
    agents.stop.set()
    await runner
    usage.stopped.set()
    missed = [count - errors - n for n in agents.received]
    print(line(f"webhook -> agent websocket ({len(sessions)} agents)", agents.latencies,
               f"missed per agent: max {max(missed)}, total {sum(missed)}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--port", type=int, default=8775)
    args = parser.parse_args()
    if args.rate * args.seconds > 20000 or args.agents > 500:
        raise SystemExit("bounded: at most 20,000 deliveries and 500 agents per run")

    setup_database()
    channels, sessions = make_world(args.agents)
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    http, ws = f"http://127.0.0.1:{args.port}", f"ws://127.0.0.1:{args.port + 1}"
    processes = {
        "gunicorn": start([str(BIN / "gunicorn"), "switchboard.wsgi:application", "-b", f"127.0.0.1:{args.port}",
                           "-w", "2", "--threads", "4", "--log-level", "warning"], "/tmp/load-gunicorn.log"),
        "daphne": start([str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(args.port + 1),
                         "switchboard.asgi:application"], "/tmp/load-daphne.log"),
        "worker": start([str(BIN / "celery"), "-A", "switchboard", "worker", "-Q", "ingest,default,outbound,signals",
                         "-c", "4", "--pool", "threads", "--loglevel", "WARNING", "--without-gossip",
                         "--without-mingle"], "/tmp/load-worker.log"),
    }
    try:
        wait_http(http + "/login/")
        wait_http(ws.replace("ws", "http", 1) + "/login/")
        print(f"open loop {args.rate:.0f} deliveries/s for {args.seconds:.0f} s (WhatsApp, Messenger, TikTok in "
              f"turn), {args.agents} agents; load average before: {os.getloadavg()[0]:.2f}, {os.cpu_count()} cores")
        usage = Usage(processes)
        asyncio.run(measure(args, http, ws, channels, sessions, usage))
        usage.report()
        print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    finally:
        for process in processes.values():
            process.terminate()
            process.wait(timeout=15)


if __name__ == "__main__":
    main()
