from __future__ import annotations

import pytest

from inbox.automation import ruleset_cache


@pytest.fixture(autouse=True)
def _fresh_rulesets():
    """Compiled rule sets are cached per process by organization id and stamp; ids repeat across tests."""
    ruleset_cache.forget()
    yield
    ruleset_cache.forget()
