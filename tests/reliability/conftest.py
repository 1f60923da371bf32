"""Switches of the reliability suites. The quick versions run in CI; the long ones only on demand.

``RELIABILITY_LONG=1``: more traffic and fault cycles in the fault-injection suite, 100,000 examples per fuzz
target. ``RELIABILITY_RESTART_SERVICES=1``: the fault suite also restarts Redis and PostgreSQL. They are the
machine's shared services (other people's test runs use them), so this is off by default and never in CI.
"""

from __future__ import annotations

import os

LONG = os.environ.get("RELIABILITY_LONG", "") == "1"
RESTART_SERVICES = os.environ.get("RELIABILITY_RESTART_SERVICES", "") == "1"
# Fuzz examples per target: a few hundred in CI, 100,000 in the long run.
FUZZ_EXAMPLES = 100_000 if LONG else int(os.environ.get("RELIABILITY_FUZZ_EXAMPLES", "200"))


def pytest_collection_modifyitems(items: list) -> None:
    """The suite's 300 s per-test timeout guards CI against a hang; a long run's 100,000 examples of one fuzz target
    take most of an hour, so on demand those tests run without it."""
    import pytest

    if LONG or FUZZ_EXAMPLES > 2_000:
        for item in items:
            if "tests/reliability/" in str(item.path).replace("\\", "/"):
                item.add_marker(pytest.mark.timeout(0))
