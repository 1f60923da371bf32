"""Shared fixtures. Services (PostgreSQL, Redis, a Celery worker, daphne) are real, never mocked."""

from __future__ import annotations

import os
import shutil

import pytest
from django.conf import settings

# Settings are already loaded when this file is imported: hash test passwords cheaply here, and tell the server
# and worker processes the tests start (tests/processes.py passes the environment on) to accept those hashes.
os.environ["FAST_PASSWORD_HASHING"] = "1"
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

CI = os.environ.get("CI", "").lower() == "true"
ON_SERVICES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql") and bool(settings.REDIS_URL)
CHROMIUM = "/usr/bin/chromium"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Browser tests run last: Playwright's sync API keeps an event loop running in the main thread for the rest
    # of the session, and Django's async_to_sync (every broadcast) refuses to run under it.
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
    for item in items:
        if item.get_closest_marker("services") and not ON_SERVICES and not CI:
            item.add_marker(pytest.mark.skip(
                reason="needs PostgreSQL and Redis (DATABASE_URL=postgres://..., REDIS_URL); `make test` uses them "
                       "when they answer on loopback, and CI=true turns this skip into a failure"))
        if item.get_closest_marker("browser") and not shutil.which(CHROMIUM) and not CI:
            item.add_marker(pytest.mark.skip(reason=f"{CHROMIUM} is not installed (`make test` installs it as root)"))


def pytest_runtest_setup(item: pytest.Item) -> None:
    """With CI=true a missing service or browser fails the test instead of skipping it."""
    if CI and item.get_closest_marker("services") and not ON_SERVICES:
        pytest.fail("CI=true: this test needs PostgreSQL and Redis, which are not configured")
    if CI and item.get_closest_marker("browser") and not shutil.which(CHROMIUM):
        pytest.fail(f"CI=true: {CHROMIUM} is missing")


@pytest.fixture(autouse=True)
def _fresh_cache_and_layer() -> None:
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def keep_test_connection():
    """For tests that call the WSGI application directly: Django's handler closes the database connection around
    each request (``close_old_connections`` on request_started/finished), which would close the connection that
    holds the test's transaction. Django's test client avoids it the same way."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)
