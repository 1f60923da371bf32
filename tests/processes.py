"""Real server and worker processes for end-to-end tests: daphne and, with Redis, a Celery worker.

They run against the test database that pytest-django created, so the test must use ``transactional_db``
(or ``live_processes`` below, which requests it) for its rows to be visible to them.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_database_url() -> str:
    """The URL of the database pytest-django created, for child processes."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    auth = f"{user}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["DATABASE_URL"] = test_database_url()
    if settings.REDIS_URL:
        env["REDIS_URL"] = settings.REDIS_URL
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def _wait_for_port(port: int, process: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited early:\n{log.read_text()[-4000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port} after {timeout}s:\n{log.read_text()[-4000:]}")


def _wait_for_text(text: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited early:\n{log.read_text()[-4000:]}")
        if text in log.read_text(errors="replace"):
            return
        time.sleep(0.2)
    raise RuntimeError(f"{text!r} not seen after {timeout}s:\n{log.read_text()[-4000:]}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def daphne_server(**extra_env: str) -> Iterator[str]:
    """Serve the ASGI app from a daphne process; yields its base URL."""
    port = free_port()
    log = Path(tempfile.mkstemp(prefix="daphne-", suffix=".log")[1])
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "switchboard.asgi:application"],
            cwd=ROOT,
            env=child_env(**extra_env),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for_port(port, process, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(process)


@contextmanager
def celery_worker(
    queues: str = "ingest,outbound,signals,integrations,default", **extra_env: str
) -> Iterator[subprocess.Popen]:
    """A real Celery worker process on the Redis broker, consuming every queue."""
    assert settings.REDIS_URL, "a Celery worker needs REDIS_URL"
    import redis

    redis.Redis.from_url(settings.REDIS_URL).flushdb()  # no stale tasks from an earlier run
    log = Path(tempfile.mkstemp(prefix="celery-", suffix=".log")[1])
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                str(BIN / "celery"),
                "-A",
                "switchboard",
                "worker",
                "-Q",
                queues,
                "--pool",
                "threads",
                "--concurrency",
                "4",
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"test-{os.getpid()}@%h",
            ],
            cwd=ROOT,
            env=child_env(**extra_env),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for_text("ready.", process, log)
        process.log_path = log  # type: ignore[attr-defined]
        yield process
    finally:
        _stop(process)


def wait_until(predicate, timeout: float = 15, interval: float = 0.1, message: str = "condition"):  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


@contextmanager
def gunicorn_server(port: int | None = None, **extra_env: str) -> Iterator[str]:
    """Serve plain HTTP from a gunicorn (WSGI) process, as in the production process model."""
    port = port or free_port()
    log = Path(tempfile.mkstemp(prefix="gunicorn-", suffix=".log")[1])
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), "switchboard.wsgi:application", "-b", f"127.0.0.1:{port}", "--workers", "1",
             "--threads", "4"],
            cwd=ROOT, env=child_env(**extra_env), stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        _wait_for_port(port, process, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(process)


@contextmanager
def daphne_on(port: int, **extra_env: str) -> Iterator[str]:
    log = Path(tempfile.mkstemp(prefix="daphne-", suffix=".log")[1])
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "switchboard.asgi:application"],
            cwd=ROOT, env=child_env(**extra_env), stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        _wait_for_port(port, process, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(process)
