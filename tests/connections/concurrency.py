"""Two callers at once, as two worker processes would be: the refresh-race tests of connections and CRM."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connection as db_connection


def at_once(work: Callable[[], None], *, callers: int = 2, timeout: float = 30.0) -> None:
    """Run ``work`` in ``callers`` threads released together; each closes its own database connection."""
    barrier = threading.Barrier(callers)

    def caller() -> None:
        try:
            barrier.wait()
            work()
        finally:
            db_connection.close()

    threads = [threading.Thread(target=caller) for _ in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
