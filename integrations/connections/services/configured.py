"""Whether an organization has any outbound integration configured (a CRM connection, a webhook subscription),
remembered per process so the subscribers on the hot path (every inbound message) cost no query when none is.

The apps that own such configuration register a check (``register``) and call :func:`outbound_changed` in the
transaction that connects, subscribes, disables or deletes. The invalidation is a version stamp in the shared
Django cache (Redis in production), the way the keyword matcher of ``signals`` is keyed on its lists' versions:
a process keeps ``(stamp, answer)`` per organization and asks the database again only when the stamp moved.
The stamp is written before and again after commit, and read *before* the database is, so an answer computed
from a snapshot older than a change is stored under the older stamp and never trusted afterwards.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

from django.core.cache import cache
from django.db import transaction

Check = Callable[[int], bool]

_checks: dict[str, Check] = {}
_known: dict[int, tuple[str, bool]] = {}
_lock = threading.Lock()


def register(name: str, check: Check) -> None:
    """``check(organization_id)``: True when the organization has something of ``name`` that wants events."""
    _checks[name] = check


def _stamp_key(organization_id: int) -> str:
    return f"outbound:configured-stamp:{organization_id}"


def _current_stamp(organization_id: int) -> str:
    # No expiry: an evicted stamp is recreated with a new value, which only costs one recomputation.
    return str(cache.get_or_set(_stamp_key(organization_id), lambda: uuid.uuid4().hex, timeout=None))


def outbound_configured(organization_id: int) -> bool:
    """True when some registered integration of the organization wants events (one cache read when cached)."""
    stamp = _current_stamp(organization_id)
    known = _known.get(organization_id)
    if known is not None and known[0] == stamp:
        return known[1]
    answer = any(check(organization_id) for check in _checks.values())
    with _lock:
        _known[organization_id] = (stamp, answer)
    return answer


def outbound_changed(organization_id: int) -> None:
    """Call in the transaction that changes an organization's outbound configuration: every process asks again."""

    def bump() -> None:
        cache.set(_stamp_key(organization_id), uuid.uuid4().hex, timeout=None)

    bump()
    transaction.on_commit(bump)
