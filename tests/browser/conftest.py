"""Browser fixtures: the real stack (daphne, and a Celery worker when Redis is configured) and Debian's Chromium."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.conf import settings

from tests.processes import celery_worker, daphne_server

# Playwright's sync API runs an event loop in the test thread; Django's ORM calls in the same test are still
# plain synchronous calls, so the async-safety guard is lifted for browser tests only.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def live_stack(django_db_setup, django_db_blocker) -> Iterator[str]:
    """Base URL of a daphne process serving Switchboard on the test database (plus a worker on Redis)."""
    with django_db_blocker.unblock():
        # No live check here: a page's check still in flight when a test ends can deadlock with the database flush
        # that ends it. The test of the check serves its page from a daphne of its own (test_inbox_live).
        if settings.REDIS_URL:
            with celery_worker(), daphne_server(LIVE_CHECK_SECONDS="0") as url:
                yield url
        else:
            with daphne_server(LIVE_CHECK_SECONDS="0") as url:
                yield url


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_context(chromium):
    # Our CSP blocks injected scripts; axe-core is injected by the tests, so the test browser bypasses CSP.
    context = chromium.new_context(bypass_csp=True)
    context.set_default_timeout(15_000)
    yield context
    context.close()
