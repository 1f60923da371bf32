"""Periodic inbox work (Celery beat): reopen snoozed conversations, prune the live log.

Beat entries (switchboard/settings.py ``CELERY_BEAT_SCHEDULE``)::

    "inbox-reopen-snoozed": {"task": "inbox.reopen_snoozed", "schedule": 60.0},
    "inbox-prune-events": {"task": "inbox.prune_events", "schedule": 900.0},
"""

from __future__ import annotations

from celery import shared_task

from inbox import realtime
from inbox.services.conversations import conversations_reopen_snoozed


@shared_task(name="inbox.reopen_snoozed")
def reopen_snoozed() -> int:
    """Reopen every snoozed conversation whose time has come; each reopening is broadcast live."""
    return conversations_reopen_snoozed()


@shared_task(name="inbox.prune_events")
def prune_events() -> int:
    """Drop live-log rows older than the catch-up window (browsers away longer re-read their lists)."""
    return realtime.prune_events()
