"""Capacity budget (issue 9): the CPU each stage of the pipeline costs per message on this machine, next to the
least that stage can cost on the stack the project is built on, and the cores both need at a given rate.

The load targets of issue 9 (webhook-to-agent p95 < 25 ms at 300 messages/s with 200 agents, 10 sockets per
message) only hold if every stage together stays well under the machine's cores. This bench measures each stage
alone, at a rate it sustains, as CPU seconds per message (not latency, so it is less sensitive to other jobs):

- web: gunicorn acknowledging signed WhatsApp, Messenger and TikTok webhooks (2 workers x 4 threads, as the
  Procfile). Floor: a bare Django view inserting one row (``bench/floor.py``), same gunicorn.
- worker: the Celery ingest worker processing those deliveries (``process_inbound_batch``, batches of 16, -c 2).
  Floor: a Celery task inserting one row per message, one transaction each, same batches.
- fan-out: daphne relaying each logged event to the sockets of its organization (session auth, the real
  consumer). Floor: a bare Channels consumer relaying a prebuilt frame (``bench/_floor_stack.py``).
- postgres: every PostgreSQL server process, during the web and worker stages (and during their floors).

Then: the cores needed at ``--rate`` (default 300/s), each message reaching ``--agents / --orgs`` sockets
(default 200 / 20 = 10), for the real stages and for the floors alone, next to the machine's cores. A message that
opens a conversation is two events (``conversation.opened``, ``message.received``), so two frames per socket; the
traffic is ``bench/load.py``'s, where most messages open one. The bench's own processes (generator, agents,
publisher) are not counted, though they share the machine in ``bench/load.py``.

    .venv/bin/python bench/capacity.py                   # 1,200 messages per stage, about 2 minutes
    .venv/bin/python bench/capacity.py --messages 3000 --rate 300 --agents 200 --orgs 20

Creates and drops database ``switchboard_capacity`` and uses Redis db 9 (``BENCH_DATABASE_URL`` /
``BENCH_REDIS_URL``). PostgreSQL's CPU counts every server process, so run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/switchboard_capacity")
os.environ.setdefault("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")

from bench._openloop import raw_post  # noqa: E402
from bench.ingest import (  # noqa: E402
    BIN,
    REDIS_URL,
    celery_worker,
    gunicorn,
    load_average,
    run_generator,
    setup_database,
    start,
    stop_all,
    wait_http,
)
from bench.load import deliveries, make_world  # noqa: E402

BATCH = 16  # the coalescer's largest batch (``integrations.services.webhooks``)


class Pid:
    """What :class:`bench.ingest.Usage` needs of a process it did not start."""

    def __init__(self, pid: int):
        self.pid = pid


def postgres_server() -> Pid:
    """The postmaster: its children are every server process (backends, WAL writer, checkpointer)."""
    import psutil
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres") as conn:
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    return Pid(psutil.Process(backend).parent().pid)


def cpu_seconds(processes: dict, run) -> tuple[dict[str, float], float]:  # noqa: ANN001
    """CPU seconds of each process (and its children) while ``run()`` runs, and the wall time."""
    from bench.ingest import Usage

    usage = Usage(processes)
    usage.start()
    started = time.monotonic()
    run()
    wall = time.monotonic() - started
    usage.finish()
    return usage.cpu_seconds, wall


def signal_tree(process: subprocess.Popen, signum: int) -> None:
    import psutil

    parent = psutil.Process(process.pid)
    for member in [parent, *parent.children(recursive=True)]:
        member.send_signal(signum)


def worker_started(process: subprocess.Popen) -> bool:
    """The prefork pool is up (its children exist); then a few seconds for the broker connection."""
    import psutil

    if len(psutil.Process(process.pid).children()) < 2:
        return False
    time.sleep(5)
    return True


def wait_until(predicate, limit: float = 600) -> None:  # noqa: ANN001
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for a stage to finish")
        time.sleep(0.05)


def run_agents(ws: str, sessions: list[list], tmp: Path) -> subprocess.Popen:
    (tmp / "sessions.json").write_text(json.dumps(sessions))
    for name in ("stop", "agents.json"):
        (tmp / name).unlink(missing_ok=True)
    agents = subprocess.Popen(
        [sys.executable, "-m", "bench._agents", "--ws", ws, "--sessions", str(tmp / "sessions.json"),
         "--out", str(tmp / "agents.json"), "--stop-file", str(tmp / "stop")],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    if (agents.stdout.readline().strip() if agents.stdout else "") != "ready":
        raise SystemExit(f"agents did not connect to {ws} (see /tmp/capacity-*.log)")
    return agents


def agents_done(agents: subprocess.Popen, tmp: Path, limit: float) -> int:
    """Frames the agents received (waits until each got what it expects, or ``limit`` seconds)."""
    try:
        agents.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        (tmp / "stop").touch()
        agents.wait(timeout=30)
    result = json.loads((tmp / "agents.json").read_text())
    if result["failed"]:
        print(f"  agents: {result['failed']} sockets failed: {result['errors']}")
    return sum(len(found) for found in result["agents"])


def missed_by_agents(tmp: Path, agent_org: list[int], orgs: int, count: int) -> list[tuple[int, list[int]]]:
    """``(agent, indices it never received)`` for each agent that missed a message of its organization."""
    result = json.loads((tmp / "agents.json").read_text())
    missed = []
    for agent, found in enumerate(result["agents"]):
        expected = {i for i in range(count) if (i // 3) % orgs == agent_org[agent]}
        gap = sorted(expected - {int(i) for i, _ in found})
        if gap:
            missed.append((agent, gap))
    return missed


async def publish_frames(count: int, orgs: int, rate: float) -> None:
    """The fan-out floor's traffic: ``count`` prebuilt frames, each to one organization's group, at ``rate``."""
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    started = time.monotonic()
    for index in range(count):
        delay = started + index / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        frame = json.dumps(
            {"event": "message.received", "payload": {"message": {"body": f"load {index} sent_ns={time.time_ns()}"}}}
        )
        await layer.group_send(f"floor.{(index // 3) % orgs}", {"type": "floor.frame", "text": frame})


def stored_count(*, floor: bool, status: str | None = None) -> int:
    """Deliveries stored by the floor view and task (``floor=True``), or real deliveries (in ``status``)."""
    from integrations.models import InboundWebhook

    rows = (
        InboundWebhook.objects.filter(provider="bench-floor")
        if floor
        else InboundWebhook.objects.exclude(provider="bench-floor")
    )
    return (rows.filter(status=status) if status else rows).count()


def main() -> None:  # noqa: PLR0915
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1200, help="messages per stage")
    parser.add_argument("--send-rate", type=float, default=150, help="deliveries/s while measuring (sustainable)")
    parser.add_argument("--rate", type=float, default=300, help="the rate to budget for")
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--orgs", type=int, default=20)
    parser.add_argument("--port", type=int, default=8785)
    args = parser.parse_args()
    if args.messages > 20_000 or args.agents > 500:
        raise SystemExit("bounded: at most 20,000 messages and 500 agents")
    fanout = args.agents / args.orgs
    count = args.messages - args.messages % 3

    print(f"load average before: {load_average()} ({os.cpu_count()} cores)")
    setup_database()
    world, sessions, agent_org = make_world(args.agents, args.orgs)
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    postgres = postgres_server()
    http, ws, floor_ws = (f"http://127.0.0.1:{args.port}", f"ws://127.0.0.1:{args.port + 1}",
                          f"ws://127.0.0.1:{args.port + 2}")  # fmt: skip
    daphne = [str(BIN / "daphne"), "-b", "127.0.0.1"]
    processes = {
        "gunicorn": start(gunicorn(args.port), "/tmp/capacity-gunicorn.log"),
        "daphne": start(
            daphne + ["-p", str(args.port + 1), "switchboard.asgi:application"], "/tmp/capacity-daphne.log"
        ),
        "daphne-floor": start(
            daphne + ["-p", str(args.port + 2), "bench._floor_stack:application"], "/tmp/capacity-daphne-floor.log"
        ),  # fmt: skip
        "worker-floor": start(
            [
                str(BIN / "celery"),
                "-A",
                "bench._floor_stack",
                "worker",
                "-Q",
                "floor",
                "-c",
                "2",
                "--prefetch-multiplier",
                "16",
                "--loglevel",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
            ],
            "/tmp/capacity-worker-floor.log",
        ),  # fmt: skip
    }
    # The real worker starts now and is stopped (SIGSTOP) until its stage, so its start-up is not counted and it
    # does not process the deliveries while the web stage acknowledges them.
    processes["worker"] = start(celery_worker("ingest,default,signals,integrations"), "/tmp/capacity-worker.log")
    tmp = Path(tempfile.mkdtemp(prefix="switchboard-capacity-"))
    per_message: dict[str, tuple[float, float]] = {}  # stage -> (measured, floor) CPU ms per message
    try:
        wait_http(http + "/health/live")
        wait_http(ws.replace("ws", "http", 1) + "/health/live")
        run_generator([raw_post("/bench/floor/", b"{}", {}) for _ in range(100)], 100, args.port)
        wait_until(lambda: worker_started(processes["worker"]), limit=120)
        signal_tree(processes["worker"], signal.SIGSTOP)
        print(f"{count} messages per stage at {args.send_rate:.0f}/s; {args.agents} agents in {args.orgs} "
              f"organizations ({fanout:.0f} sockets per message)")  # fmt: skip

        # Floors.
        floor_requests = [
            raw_post("/bench/floor/", b'{"floor": %d}' % i, {"Content-Type": "application/json"}) for i in range(count)
        ]
        watched = {"gunicorn": processes["gunicorn"], "postgres": postgres}
        cpu, _ = cpu_seconds(watched, lambda: run_generator(floor_requests, args.send_rate, args.port))
        web_floor, pg_web_floor = cpu["gunicorn"] / count, cpu["postgres"] / count

        from bench._floor_stack import insert_rows

        def floor_worker() -> None:
            keys = [f"floor-worker-{i}" for i in range(count)]
            for k in range(0, count, BATCH):
                insert_rows.apply_async((keys[k : k + BATCH],), queue="floor")
            wait_until(lambda: stored_count(floor=True) >= 2 * count + 100)

        cpu, _ = cpu_seconds({"worker": processes["worker-floor"], "postgres": postgres}, floor_worker)
        worker_floor, pg_worker_floor = cpu["worker"] / count, cpu["postgres"] / count

        per_org = [0] * args.orgs
        for index in range(count):
            per_org[(index // 3) % args.orgs] += 1
        floor_sessions = [[str(agent_org[n]), per_org[agent_org[n]]] for n in range(args.agents)]
        agents = run_agents(floor_ws, floor_sessions, tmp)
        frames = 0

        def floor_fanout() -> None:
            nonlocal frames
            asyncio.run(publish_frames(count, args.orgs, args.send_rate))
            frames = agents_done(agents, tmp, 60)

        cpu, _ = cpu_seconds({"daphne": processes["daphne-floor"]}, floor_fanout)
        fanout_floor = cpu["daphne"] / max(frames, 1)
        print(f"floors measured; fan-out floor: {frames} frames received of {count * fanout:.0f}")

        # The real stages: acknowledge everything first (no worker yet), then start the worker with the agents on.
        requests = deliveries(count, world, time.time() + 2, args.send_rate)
        cpu, _ = cpu_seconds(
            watched, lambda: run_generator(requests, args.send_rate, args.port, start_at=time.time() + 2)
        )
        web, pg_web = cpu["gunicorn"] / count, cpu["postgres"] / count
        received = stored_count(floor=False, status="received")
        agents = run_agents(ws, [[s, per_org[agent_org[n]]] for n, s in enumerate(sessions)], tmp)
        worker = processes["worker"]

        def real_worker() -> None:
            nonlocal frames
            signal_tree(worker, signal.SIGCONT)
            wait_until(lambda: stored_count(floor=False, status="received") == 0)
            frames = agents_done(agents, tmp, 120)

        cpu, _ = cpu_seconds({"worker": worker, "daphne": processes["daphne"], "postgres": postgres}, real_worker)
        from inbox.models import InboxEvent

        # Every logged event goes to its organization's sockets: a message that opens a conversation is two
        # (conversation.opened, message.received); the agents only check the second.
        relayed = InboxEvent.objects.exclude(channel_id=None).count() * fanout
        for agent, gap in missed_by_agents(tmp, agent_org, args.orgs, count)[:10]:
            print(f"  agent {agent} (organization {agent_org[agent]}) never received messages {gap[:20]}")
        worker_cpu, pg_worker = cpu["worker"] / received, cpu["postgres"] / received
        print(
            f"real stages measured: {received} deliveries processed; the agents received {frames} of "
            f"{received * fanout:.0f} message.received frames; {relayed:.0f} frames relayed in all "
            f"({cpu['daphne'] / relayed * 1e6:.0f} us of daphne CPU each; the floor's: {fanout_floor * 1e6:.0f} us)"
        )

        per_message = {
            "web (ack)": (web, web_floor),
            "worker": (worker_cpu, worker_floor),
            f"fan-out (x{fanout:.0f} sockets)": (cpu["daphne"] / received, fanout_floor * fanout),
            "postgres": (pg_web + pg_worker, pg_web_floor + pg_worker_floor),
        }
    finally:
        (tmp / "stop").touch()
        signal_tree(processes["worker"], signal.SIGCONT)
        stop_all(processes)

    print(f"\nCPU per message, and cores needed at {args.rate:.0f} messages/s ({load_average()} load average now)")
    print(f"{'stage':<22} {'measured':>10} {'floor':>10} {'cores':>7} {'floor cores':>12}")
    total = total_floor = 0.0
    for stage, (measured, floor) in per_message.items():
        total, total_floor = total + measured * args.rate, total_floor + floor * args.rate
        print(f"{stage:<22} {measured * 1000:8.2f} ms {floor * 1000:7.2f} ms {measured * args.rate:7.2f} "
              f"{floor * args.rate:12.2f}")  # fmt: skip
    print(f"{'total':<22} {'':>10} {'':>10} {total:7.2f} {total_floor:12.2f}   (this machine: {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
