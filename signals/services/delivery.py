"""Delivery of the signal outbox to the TikTok Events API: claim, post, record, retry, dead-letter, replay.

Claiming (PostgreSQL): in one statement, due rows of one advertiser account are locked with ``FOR UPDATE SKIP
LOCKED`` (read in order from the partial index ``signal_due_rows``), marked ``sending`` with a lease
(``next_attempt_at`` = now + lease), returned, and committed *before* the HTTP request, so no transaction stays
open across the network and concurrent workers never take the same rows. Per batch: that claim (committed
without waiting for the WAL flush, see ``_claim_postgresql``), the post, and one durable commit of the outcome. A
worker killed mid-batch leaves its rows ``sending``; when the lease runs out they are due again and sent again
with the same deterministic ``event_id``, which TikTok deduplicates. On SQLite ``FOR UPDATE`` does not exist;
the IMMEDIATE transaction mode serializes the claim instead.
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Min, Q
from django.utils import timezone

from signals.client import EventsAPIClient, TrackOutcome, sandbox_track
from signals.models import AdvertiserAccount, SignalDelivery, SignalEvent
from signals.payloads import build_track_body, encode_body
from signals.services.accounts import access_token, advertiser_mark_needs_reconnection
from switchboard.crypto import SecretUnreadable

logger = logging.getLogger(__name__)

Status = SignalEvent.Status
TrackFn = Callable[[bytes, str], TrackOutcome]


def _setting(name: str, default: float) -> float:
    """A tuning value: the Django setting if defined, else the environment variable, else ``default``."""
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name) or default
    return float(value)


def batch_size() -> int:
    return max(1, int(settings.SIGNALS_BATCH_SIZE))


def max_attempts() -> int:
    return max(1, int(settings.SIGNALS_MAX_ATTEMPTS))


def backoff(attempts: int) -> timedelta:
    """Exponential backoff with jitter: base * 2^(attempts-1), capped, times a random factor in [0.5, 1.5)."""
    base = _setting("SIGNALS_RETRY_BASE_SECONDS", 5.0)
    cap = _setting("SIGNALS_RETRY_MAX_SECONDS", 3600.0)
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)) * random.uniform(0.5, 1.5))


def sending_lease() -> timedelta:
    return timedelta(seconds=_setting("SIGNALS_SENDING_LEASE_SECONDS", 120.0))


def _due(now: datetime) -> Q:
    return Q(status__in=[Status.PENDING, Status.SENDING], next_attempt_at__lte=now)


@dataclass
class BatchResult:
    account_id: int
    claimed: int = 0
    outcome: str = ""
    reason: str = ""


@dataclass
class RunResult:
    batches: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    results: list[BatchResult] = field(default_factory=list)


_ROW = ("id", "event_name", "event_id", "event_time", "ttclid", "flags", "properties", "user_ids")


@dataclass(frozen=True, slots=True)
class ClaimedRow:
    """What delivery needs of a claimed outbox row (lighter than a model instance at thousands per second)."""

    pk: int
    event_name: str
    event_id: str
    event_time: datetime
    ttclid: str
    flags: list[str]
    properties: dict
    user_ids: dict


def _claim(account_id: int, now: datetime, limit: int) -> list[ClaimedRow]:
    if connection.vendor == "postgresql":
        return _claim_postgresql(account_id, now, limit)
    with transaction.atomic():
        rows = SignalEvent.objects.filter(_due(now), advertiser_account_id=account_id).order_by("next_attempt_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True, of=("self",))
        ids = list(rows.values_list("id", flat=True)[:limit])
        if not ids:
            return []
        lease_until = now + sending_lease()
        SignalEvent.objects.filter(pk__in=ids).update(
            status=Status.SENDING, attempts=F("attempts") + 1, next_attempt_at=lease_until
        )
        return [
            ClaimedRow(*values) for values in SignalEvent.objects.filter(pk__in=ids).order_by("id").values_list(*_ROW)
        ]


# One statement: lock the oldest due rows (skipping those another worker holds), lease them, return what the
# payload needs. The ``signal_due_rows`` partial index serves the ORDER BY ... LIMIT without sorting the backlog.
_CLAIM_SQL = """
UPDATE {table} SET status = %s, attempts = attempts + 1, next_attempt_at = %s
WHERE id IN (
    SELECT id FROM {table}
    WHERE advertiser_account_id = %s AND status IN (%s, %s) AND next_attempt_at <= %s
    ORDER BY next_attempt_at, id
    LIMIT %s
    FOR UPDATE SKIP LOCKED
)
RETURNING {columns}
"""


def _json(value: object) -> object:
    # Django registers a text loader for jsonb (JSONField parses itself), so raw cursors see strings.
    return json.loads(value) if isinstance(value, str | bytes) else value


def _claim_postgresql(account_id: int, now: datetime, limit: int) -> list[ClaimedRow]:
    sql = _CLAIM_SQL.format(table=SignalEvent._meta.db_table, columns=", ".join(_ROW))
    own_transaction = not connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        if own_transaction:
            # The claim is only a lease: if a crash loses it, the rows are due again and sent again with the
            # same event_id, which TikTok deduplicates. So it need not wait for its own WAL flush; the outcome
            # commit (``_record``) is durable and flushes this one with it. (Never inside a caller's
            # transaction: that would make the caller's commit asynchronous too.)
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
        cursor.execute(
            sql,
            [Status.SENDING, now + sending_lease(), account_id, Status.PENDING, Status.SENDING, now, limit],
        )
        fetched = cursor.fetchall()
    rows = [
        ClaimedRow(pk, name, event_id, at, ttclid, _json(flags), _json(properties), _json(user_ids))
        for pk, name, event_id, at, ttclid, flags, properties, user_ids in fetched
    ]
    rows.sort(key=lambda row: row.pk)
    return rows


def _release(rows: list[ClaimedRow]) -> None:
    """Give claimed rows back untouched (the account was disconnected between claim and post)."""
    SignalEvent.objects.filter(pk__in=[r.pk for r in rows], status=Status.SENDING).update(
        status=Status.PENDING, attempts=F("attempts") - 1, next_attempt_at=timezone.now()
    )


def _track_function(account: AdvertiserAccount, client: EventsAPIClient | None) -> TrackFn:
    if account.is_sandbox:
        return lambda body, token: sandbox_track(body, access_token=token)
    assert client is not None
    return lambda body, token: client.track(body, access_token=token)


def signals_deliver_batch(
    *, account: AdvertiserAccount, client: EventsAPIClient | None = None, now: datetime | None = None
) -> BatchResult:
    """Claim up to ``SIGNALS_BATCH_SIZE`` due rows of ``account``, post them in one request, and record the
    outcome on the rows and in the "Sent to TikTok" log. Never raises for provider failures.

    Promises: a row is ``delivered`` only after TikTok answered code 0 for its batch; a transient failure puts
    it back to ``pending`` with backoff until ``SIGNALS_MAX_ATTEMPTS``, then ``dead``; a permanent failure makes
    it ``dead`` with the reason; an invalid token also marks the account as needing reconnection and
    dead-letters its other waiting rows. A disconnected account's rows are never posted.
    """
    now = now or timezone.now()
    result = BatchResult(account.pk)
    rows = _claim(account.pk, now, batch_size())
    result.claimed = len(rows)
    if not rows:
        return result
    account.refresh_from_db(fields=["status", "event_source", "event_set_id", "test_event_code"])
    if account.status != AdvertiserAccount.Status.CONNECTED:
        _release(rows)
        result.outcome = "paused"
        return result
    body = encode_body(
        build_track_body(
            rows,
            event_source=account.event_source,
            event_source_id=account.event_set_id,
            partner_name=settings.SIGNALS_PARTNER_NAME,
            test_event_code=account.test_event_code,
        )
    )
    started = time.monotonic()
    try:
        token = access_token(account)
    except SecretUnreadable as exc:
        outcome = TrackOutcome("auth", str(exc))
    else:
        outcome = _track_function(account, client)(body, token)
    duration_ms = int((time.monotonic() - started) * 1000)
    _record(account, rows, body, outcome, duration_ms)
    result.outcome, result.reason = outcome.kind, outcome.reason
    return result


def _record(
    account: AdvertiserAccount, rows: list[ClaimedRow], body: bytes, outcome: TrackOutcome, duration_ms: int
) -> None:
    now = timezone.now()
    ids = [r.pk for r in rows]
    sending = SignalEvent.objects.filter(pk__in=ids, status=Status.SENDING)
    with transaction.atomic():
        if outcome.kind == "ok":
            sending.update(status=Status.DELIVERED, delivered_at=now, last_error="")
            log_outcome = SignalDelivery.Outcome.DELIVERED
        elif outcome.kind == "transient":
            limit = max_attempts()
            reason = outcome.reason[:300]
            sending.filter(attempts__gte=limit).update(
                status=Status.DEAD, last_error=f"gave up after {limit} attempts: {reason}"[:300]
            )
            for attempts in set(sending.values_list("attempts", flat=True)):
                delay = backoff(attempts)
                if outcome.retry_after:
                    delay = max(delay, timedelta(seconds=outcome.retry_after))
                sending.filter(attempts=attempts).update(
                    status=Status.PENDING, next_attempt_at=now + delay, last_error=reason
                )
            log_outcome = SignalDelivery.Outcome.RETRY
        else:
            sending.update(status=Status.DEAD, last_error=outcome.reason[:300])
            if outcome.kind == "auth":
                advertiser_mark_needs_reconnection(account_id=account.pk, reason=outcome.reason)
                SignalEvent.objects.filter(
                    advertiser_account_id=account.pk, status__in=[Status.PENDING, Status.SENDING]
                ).update(status=Status.DEAD, last_error=f"not sent: {outcome.reason}"[:300])
            log_outcome = SignalDelivery.Outcome.DEAD
        SignalDelivery.objects.create(
            advertiser_account=account,
            request_body=body.decode(),
            response_status=outcome.http_status,
            response_body=outcome.response_text,
            outcome=log_outcome,
            error=outcome.reason[:300],
            event_ids=[r.event_id for r in rows],
            event_count=len(rows),
            duration_ms=duration_ms,
        )


def accounts_with_due_rows(now: datetime | None = None) -> list[AdvertiserAccount]:
    now = now or timezone.now()
    account_ids = SignalEvent.objects.filter(_due(now)).values_list("advertiser_account_id", flat=True).distinct()
    return list(AdvertiserAccount.objects.filter(pk__in=account_ids, status=AdvertiserAccount.Status.CONNECTED))


def signals_deliver_pending(
    *, time_budget: float = 20.0, client: EventsAPIClient | None = None, max_batches: int | None = None
) -> RunResult:
    """Deliver due rows of every connected account, batch after batch, until none is due or ``time_budget``
    seconds have passed. An account whose batch failed transiently is left alone for the rest of the run."""
    deadline = time.monotonic() + time_budget
    run = RunResult()
    own_client = client is None
    client = client or EventsAPIClient()
    try:
        accounts = accounts_with_due_rows()
        while accounts and time.monotonic() < deadline:
            still: list[AdvertiserAccount] = []
            for account in accounts:
                result = signals_deliver_batch(account=account, client=client)
                if not result.claimed:
                    continue
                run.batches += 1
                run.results.append(result)
                if result.outcome == "ok":
                    run.delivered += result.claimed
                    still.append(account)
                elif result.outcome == "transient":
                    run.retried += result.claimed
                elif result.outcome in ("permanent", "auth"):
                    run.dead += result.claimed
                    if result.outcome == "permanent":
                        still.append(account)
                if max_batches is not None and run.batches >= max_batches:
                    return run
                if time.monotonic() >= deadline:
                    break
            accounts = still
    finally:
        if own_client:
            client.close()
    return run


def next_due_at() -> datetime | None:
    """When the earliest waiting row of a connected account becomes due (for scheduling the next run)."""
    return SignalEvent.objects.filter(
        status__in=[Status.PENDING, Status.SENDING], advertiser_account__status=AdvertiserAccount.Status.CONNECTED
    ).aggregate(at=Min("next_attempt_at"))["at"]


def signals_sweep(*, older_than: timedelta | None = None) -> int:
    """The number of rows of connected accounts that are due and have waited longer than ``older_than``
    (default ``OUTBOX_SWEEP_AFTER_SECONDS``): the beat task enqueues a delivery run when it is not zero."""
    older_than = older_than if older_than is not None else timedelta(seconds=settings.OUTBOX_SWEEP_AFTER_SECONDS)
    cutoff = timezone.now() - older_than
    return SignalEvent.objects.filter(
        status__in=[Status.PENDING, Status.SENDING],
        next_attempt_at__lte=cutoff,
        advertiser_account__status=AdvertiserAccount.Status.CONNECTED,
    ).count()


def signal_events_replay(*, organization_id: int, event_ids: list[int] | None = None) -> int:
    """Put dead letters of the organization (all, or the given row ids) back to ``pending`` with fresh
    attempts, and enqueue a delivery run after commit. Returns the number of rows replayed."""
    from signals.services.outbox import schedule_delivery

    with transaction.atomic():
        rows = SignalEvent.objects.filter(organization_id=organization_id, status=Status.DEAD)
        if event_ids is not None:
            rows = rows.filter(pk__in=event_ids)
        count = rows.update(status=Status.PENDING, attempts=0, next_attempt_at=timezone.now(), last_error="")
        if count:
            schedule_delivery()
    return count
