"""Celery entry points of the signals app: thin, services called. Routed to the ``signals`` queue."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from signals.services import delivery

#: How long one run may keep a worker thread; the rest is picked up by the run it enqueues.
TIME_BUDGET_SECONDS = 20.0
#: A retry due later than this is left to the beat sweep rather than scheduled as a countdown.
MAX_COUNTDOWN_SECONDS = 600.0


@shared_task(name="signals.deliver_pending", ignore_result=True)
def deliver_pending() -> dict[str, int]:
    """Send every due outbox row, in batches per advertiser account, within a time budget, with
    ``SIGNALS_DELIVERY_CONCURRENCY`` claimers at once (see ``signals.services.delivery``).

    When rows are still due at the end (budget spent) it enqueues itself again at once; when a transient failure
    left rows waiting for a backoff, it schedules one run for when the earliest becomes due.
    """
    run = delivery.signals_deliver_pending(
        time_budget=float(getattr(settings, "SIGNALS_TASK_BUDGET_SECONDS", TIME_BUDGET_SECONDS))
    )
    if settings.CELERY_TASK_ALWAYS_EAGER:
        # Embedded mode runs tasks inline: re-enqueueing would recurse. The next message or sweep continues.
        pass
    elif delivery.accounts_with_due_rows():
        if run.batches:
            deliver_pending.apply_async()
    elif run.retried:
        due = delivery.next_due_at()
        if due is not None:
            countdown = max(0.0, (due - timezone.now()).total_seconds())
            if countdown <= MAX_COUNTDOWN_SECONDS:
                deliver_pending.apply_async(countdown=countdown + 0.05)
    return {"batches": run.batches, "delivered": run.delivered, "retried": run.retried, "dead": run.dead}


@shared_task(name="signals.sweep", ignore_result=True)
def sweep() -> int:
    """Beat: when rows have been due for longer than ``OUTBOX_SWEEP_AFTER_SECONDS`` (a lost enqueue, a worker
    killed mid-batch), start a delivery run."""
    waiting = delivery.signals_sweep()
    if waiting:
        deliver_pending.delay()
    return waiting
