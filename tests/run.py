"""The test command behind `make test` and `.ci/run`.

1. The whole suite, on PostgreSQL + Redis + a real Celery worker when they answer on loopback (with CI=true
   they must: a missing service fails the run instead of skipping tests).
2. The core suite again on the embedded default (SQLite, in-memory channel layer, tasks without a broker), so the
   README's run command keeps working.
Skipped tests are listed with their reason at the end of each run (pytest -ra).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CI = os.environ.get("CI", "").lower() == "true"
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/switchboard")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def pytest(env: dict[str, str], *args: str) -> int:
    command = [sys.executable, "-m", "pytest", *args, *sys.argv[1:]]
    print(f"\n$ {' '.join(command)}", flush=True)
    return subprocess.call(command, cwd=ROOT, env=env)


def main() -> int:
    base_env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")}
    base_env["DB_CONN_MAX_AGE"] = "0"  # threads of async tests must not keep the test database open
    postgres = reachable("127.0.0.1", 5432)
    redis = reachable("127.0.0.1", 6379)
    missing = [
        name for name, up in (("PostgreSQL on 127.0.0.1:5432", postgres), ("Redis on 127.0.0.1:6379", redis)) if not up
    ]
    if missing and CI:
        print(f"CI=true but {' and '.join(missing)} not reachable: failing instead of skipping.", flush=True)
        return 1

    failures = 0
    if not missing:
        print("== Run 1: the whole suite on PostgreSQL + Redis + a Celery worker ==", flush=True)
        failures += pytest({**base_env, "DATABASE_URL": POSTGRES_URL, "REDIS_URL": REDIS_URL}) != 0
        print("\n== Run 2: the core suite on the embedded default (SQLite, no Redis, no broker) ==", flush=True)
        failures += pytest(base_env, "-m", "core and not services") != 0
    else:
        print(
            f"== {' and '.join(missing)} not reachable: running on the embedded default; tests that need "
            "them are skipped (reasons listed below) ==",
            flush=True,
        )
        failures += pytest(base_env) != 0
    print("\nall runs passed" if not failures else f"\n{failures} run(s) failed", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
