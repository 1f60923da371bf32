"""Agents for ``bench/load.py``, in their own process: N websockets on daphne, each recording every message it gets.

Each message text carries ``load <index> sent_ns=<time it was scheduled>``; on arrival the agent records the
index and ``now - sent_ns``. Prints ``ready`` once every socket said hello, then runs until every agent got its
expected number of messages (``--sessions`` holds ``[session key, expected]`` pairs) or ``--stop-file``
appears, and writes ``{"agents": [[index, latency_ms], ...] per agent}``.

    python -m bench._agents --ws ws://127.0.0.1:8776 --sessions sessions.json --out out.json --stop-file stop
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import time
from pathlib import Path

MARK = re.compile(r"load (\d+) sent_ns=(\d+)")


async def agent(ws: str, session: str, expect: int, found: list[list[float]], ready: list[int], stop: asyncio.Event):
    import websockets

    async with websockets.connect(
        f"{ws}/ws/inbox/",
        origin=ws.replace("ws", "http", 1),
        additional_headers={"Cookie": f"sessionid={session}"},
        max_queue=None,
        open_timeout=60,
    ) as socket:
        await socket.recv()  # hello
        ready.append(1)
        while not stop.is_set() and len(found) < expect:
            try:
                raw = await asyncio.wait_for(socket.recv(), timeout=0.5)
            except TimeoutError:
                continue
            now = time.time_ns()
            if '"message.received"' not in raw:  # cheap filter before parsing: most frames are other events
                continue
            event = json.loads(raw)
            if event.get("event") != "message.received":
                continue
            match = MARK.search((event["payload"].get("message") or {}).get("body", ""))
            if match:
                found.append([int(match.group(1)), (now - int(match.group(2))) / 1e6])


async def main_async(args: argparse.Namespace) -> None:
    sessions = json.loads(Path(args.sessions).read_text())
    found: list[list[list[float]]] = [[] for _ in sessions]
    ready: list[int] = []
    stop = asyncio.Event()

    async def watch() -> None:
        announced = False
        while not stop.is_set():
            if not announced and len(ready) == len(sessions):
                print("ready", flush=True)
                announced = True
            if os.path.exists(args.stop_file):
                stop.set()
            await asyncio.sleep(0.2)

    watcher = asyncio.create_task(watch())
    # Connect in small batches: 200 simultaneous handshakes would queue behind daphne's database lookups.
    tasks = []
    for n, (session, expect) in enumerate(sessions):
        tasks.append(asyncio.create_task(agent(args.ws, session, expect, found[n], ready, stop)))
        if n % 20 == 19:
            await asyncio.sleep(0.2)
    results = await asyncio.gather(*tasks, return_exceptions=True)
    stop.set()
    await watcher
    errors = [repr(r) for r in results if isinstance(r, BaseException)]
    result = {"agents": found, "errors": errors[:5], "failed": len(errors), "cpu_s": time.process_time()}
    Path(args.out).write_text(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ws", required=True)
    parser.add_argument("--sessions", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--stop-file", required=True)
    args = parser.parse_args()
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
