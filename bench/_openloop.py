"""An open-loop HTTP/1.1 load generator for the benches, run as its own process.

Why not wrk: Debian's wrk (4.1) has no constant-rate mode (wrk2's ``-R``); its Lua ``delay()`` only spaces
requests per connection, so a slow answer delays the next request (closed loop, coordinated omission). Why not
httpx: it costs about half a millisecond of CPU per request, so at 500-1,000/s the generator itself saturated a
core on this 2-core machine. This one sends requests that were built and signed beforehand (raw bytes), on a pool
of keep-alive connections that grows when every connection is busy, at the time each request was *scheduled*;
latency is measured from that scheduled time, so a stalled server shows up in the figures instead of slowing the
generator down (wrk2's correction). It spends a few tens of microseconds of CPU per request.

    python -m bench._openloop --requests FILE --rate 1000 --port 8765 --out latencies.json [--start-at UNIX_TS]

``FILE`` is a pickled list of raw requests (bytes). ``--start-at`` makes the schedule start at an absolute time,
so a body can carry the time it is scheduled for (``bench/load.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import pickle
import time
from pathlib import Path

MAX_CONNECTIONS = 1024


class Pool:
    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.opened = 0

    async def get(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.idle:
            return self.idle.pop()
        self.opened += 1
        return await asyncio.open_connection(self.host, self.port)

    def put(self, connection: tuple[asyncio.StreamReader, asyncio.StreamWriter]) -> None:
        self.idle.append(connection)


async def exchange(pool: Pool, request: bytes, timeout: float) -> int:
    """Send one request and read its answer; returns the status code (0 for a transport error).

    A kept-alive connection the server closed while it sat idle (gunicorn closes them after 2 s) fails before
    any answer arrives; the request is sent again on a new connection, as HTTP clients do.
    """
    reused = bool(pool.idle)
    status = await _exchange(pool, request, timeout)
    if status == -1 and reused:
        status = await _exchange(pool, request, timeout, fresh=True)
    return max(status, 0)


async def _exchange(pool: Pool, request: bytes, timeout: float, fresh: bool = False) -> int:
    """One attempt: the status code, 0 for an error after the request went out, -1 for a closed connection."""
    try:
        if fresh:
            pool.opened += 1
            reader, writer = await asyncio.open_connection(pool.host, pool.port)
        else:
            reader, writer = await pool.get()
    except OSError:
        return 0
    try:
        writer.write(request)
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            writer.close()
            partial = getattr(exc, "partial", b"")
            return -1 if not partial else 0
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length, close, chunked = 0, False, False
        for header in lines[1:]:
            name, _, value = header.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if chunked:
            await asyncio.wait_for(reader.readuntil(b"0\r\n\r\n"), timeout)
        elif length:
            await asyncio.wait_for(reader.readexactly(length), timeout)
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError, IndexError):
        writer.close()
        return 0
    if close:
        writer.close()
    else:
        pool.put((reader, writer))
    return status


async def run(
    requests: list[bytes], rate: float, host: str, port: int, start_at: float | None, timeout: float, warm: int
) -> dict:
    pool = Pool(host, port)
    for _ in range(warm):  # open the first connections before the clock starts
        try:
            pool.put(await asyncio.open_connection(host, port))
            pool.opened += 1
        except OSError:
            break
    latencies: list[float] = [0.0] * len(requests)
    statuses: list[int] = [0] * len(requests)
    in_flight = 0
    peak = 0

    async def one(index: int, scheduled: float) -> None:
        nonlocal in_flight
        in_flight += 1
        statuses[index] = await exchange(pool, requests[index], timeout)
        latencies[index] = (time.time() - scheduled) * 1000
        in_flight -= 1

    began = start_at if start_at is not None else time.time() + 0.05
    interval = 1.0 / rate
    tasks = []
    index = 0
    while index < len(requests):
        now = time.time()
        due = began + index * interval
        if due > now:
            await asyncio.sleep(due - now)
            continue
        # Everything due by now goes out in this turn of the loop (sleep granularity is ~1 ms).
        while index < len(requests) and began + index * interval <= now:
            if in_flight >= MAX_CONNECTIONS:
                break
            tasks.append(asyncio.create_task(one(index, began + index * interval)))
            index += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0)
    await asyncio.gather(*tasks)
    elapsed = time.time() - began
    for _, writer in pool.idle:
        writer.close()
    return {
        "latencies_ms": latencies,
        "statuses": statuses,
        "elapsed_s": elapsed,
        "connections": pool.opened,
        "peak_in_flight": peak,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", required=True)
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--start-at", type=float, default=None)
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--warm", type=int, default=32)
    args = parser.parse_args()
    requests = pickle.loads(Path(args.requests).read_bytes())
    cpu = time.process_time()
    result = asyncio.run(run(requests, args.rate, args.host, args.port, args.start_at, args.timeout, args.warm))
    result["generator_cpu_s"] = time.process_time() - cpu
    Path(args.out).write_text(json.dumps(result))


def raw_post(path: str, body: bytes, headers: dict[str, str], host: str = "127.0.0.1") -> bytes:
    """A complete HTTP/1.1 keep-alive POST, ready to write to a socket."""
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


if __name__ == "__main__":
    main()
