"""Delivery of the signal outbox to the TikTok Events API: claim, post, record, retry, dead-letter, replay.

Claiming (PostgreSQL): in one statement, due rows of one advertiser account are locked with ``FOR UPDATE SKIP
LOCKED`` (read in order from the partial index ``signal_due_rows``), marked ``sending`` with a lease
(``next_attempt_at`` = now + lease), returned, and committed *before* the HTTP request, so no transaction stays
open across the network and concurrent workers never take the same rows. Per batch, two round trips to the
database: the claim with a fresh read of the account (one message, committed without waiting for the WAL flush,
see ``_claim_postgresql``), and the outcome (the rows' update and the log row in one statement: one durable
commit). A worker killed mid-batch leaves its rows ``sending``; when the lease runs out they are due again and
sent again with the same deterministic ``event_id``, which TikTok deduplicates. On SQLite ``FOR UPDATE`` does not
exist; the IMMEDIATE transaction mode serializes the claim instead.

A run (:func:`signals_deliver_pending`) has ``SIGNALS_DELIVERY_CONCURRENCY`` claimers (threads, each with its own
database connection) working through the same accounts at once: SKIP LOCKED hands each claimer different rows,
and while one waits for TikTok or for its commit's flush, another builds or records its batch.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, connections, transaction
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
#: What a batch reads of its account right after the claim (a disconnect or a new token takes effect at once).
_ACCOUNT_FIELDS = ("status", "event_source", "event_set_id", "test_event_code", "access_token_encrypted")


@dataclass(frozen=True, slots=True)
class ClaimedRow:
    """What delivery needs of a claimed outbox row (lighter than a model instance at thousands per second)."""

    pk: int
    event_name: str
    event_id: str
    event_time: int  # unix seconds, as the payload carries it
    ttclid: str
    flags: list[str]
    properties: dict
    user_ids: dict


def _claim(account: AdvertiserAccount, now: datetime, limit: int) -> list[ClaimedRow]:
    """Claim up to ``limit`` due rows of ``account`` and refresh ``_ACCOUNT_FIELDS`` on it."""
    if connection.vendor == "postgresql":
        return _claim_postgresql(account, now, limit)
    with transaction.atomic():
        rows = SignalEvent.objects.filter(_due(now), advertiser_account_id=account.pk).order_by("next_attempt_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True, of=("self",))
        ids = list(rows.values_list("id", flat=True)[:limit])
        if not ids:
            return []
        lease_until = now + sending_lease()
        SignalEvent.objects.filter(pk__in=ids).update(
            status=Status.SENDING, attempts=F("attempts") + 1, next_attempt_at=lease_until
        )
        values = SignalEvent.objects.filter(pk__in=ids).order_by("id").values_list(*_ROW)
        claimed = [
            ClaimedRow(pk, name, event_id, int(at.timestamp()), *rest) for pk, name, event_id, at, *rest in values
        ]
    account.refresh_from_db(fields=list(_ACCOUNT_FIELDS))
    return claimed


# One statement: lock the oldest due rows (skipping those another worker holds), lease them, and return what the
# payload needs as one JSON array (one parse in C instead of a loader call per column and three JSON parses per
# row). The ``signal_due_rows`` partial index serves the ORDER BY ... LIMIT without sorting the backlog.
# ``event_time`` goes out as whole unix seconds: floor of the epoch, as ``int(datetime.timestamp())`` for the
# positive times we store.
_CLAIM_SQL = """
WITH claimed AS (
    UPDATE {table} SET status = %s, attempts = attempts + 1, next_attempt_at = %s
    WHERE id IN (
        SELECT id FROM {table}
        WHERE advertiser_account_id = %s AND status IN (%s, %s) AND next_attempt_at <= %s
        ORDER BY next_attempt_at, id
        LIMIT %s
        FOR UPDATE SKIP LOCKED
    )
    RETURNING id, event_name, event_id, event_time, ttclid, flags, properties, user_ids
)
SELECT coalesce(json_agg(json_build_array(
    id, event_name, event_id, floor(extract(epoch FROM event_time))::bigint, ttclid, flags, properties, user_ids
) ORDER BY id)::text, '[]') FROM claimed
"""
_ACCOUNT_SQL = "SELECT {columns} FROM {table} WHERE id = %s"


def _claim_postgresql(account: AdvertiserAccount, now: datetime, limit: int) -> list[ClaimedRow]:
    claim = _CLAIM_SQL.format(table=SignalEvent._meta.db_table)
    read_account = _ACCOUNT_SQL.format(table=AdvertiserAccount._meta.db_table, columns=", ".join(_ACCOUNT_FIELDS))
    params: list[object] = [Status.SENDING, now + sending_lease(), account.pk, Status.PENDING, Status.SENDING, now]
    params += [limit, account.pk]
    # One message, one round trip. Outside a caller's transaction the statements of a multi-statement message run
    # as one transaction, and the claim is only a lease: if a crash loses it, the rows are due again and sent
    # again with the same event_id, which TikTok deduplicates. So it need not wait for its own WAL flush; the
    # outcome commit (``_record``) is durable and flushes this one with it. (Never inside a caller's
    # transaction: that would make the caller's commit asynchronous too.)
    asynchronous = "" if connection.in_atomic_block else "SET LOCAL synchronous_commit TO OFF;\n"
    with connection.cursor() as cursor:
        cursor.execute(f"{asynchronous}{claim};\n{read_account}", params)
        results = []
        while True:
            if cursor.description is not None:
                results.append(cursor.fetchall())
            if not cursor.nextset():
                break
    [[claimed]], [current] = results
    for name, value in zip(_ACCOUNT_FIELDS, current, strict=True):
        setattr(account, name, value)
    return [ClaimedRow(*values) for values in json.loads(claimed)]


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
    outcome on the rows and in the "Sent to TikTok" log. Never raises for provider failures. Safe to call
    concurrently for the same account (each call claims different rows); ``account`` is refreshed in place, so
    concurrent callers pass their own instances.

    Promises: a row is ``delivered`` only after TikTok answered code 0 for its batch; a transient failure puts
    it back to ``pending`` with backoff until ``SIGNALS_MAX_ATTEMPTS``, then ``dead``; a permanent failure makes
    it ``dead`` with the reason; an invalid token also marks the account as needing reconnection and
    dead-letters its other waiting rows. A disconnected account's rows are never posted.
    """
    now = now or timezone.now()
    result = BatchResult(account.pk)
    rows = _claim(account, now, batch_size())
    result.claimed = len(rows)
    if not rows:
        return result
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


# The delivered batch in one statement (autocommit: one durable commit, one round trip): the rows, and the log
# row. ``(status || '') = 'sending'`` rather than ``status = 'sending'``: the latter implies the predicate of the
# partial index ``signal_due_rows``, and with stale statistics (a fresh table, or one autovacuum has not
# analyzed yet) the planner ANDs a scan of that whole index with the 50 primary-key lookups: 9 ms instead of 0.3.
_DELIVERED_SQL = """
WITH delivered AS (
    UPDATE {events} SET status = %s, delivered_at = %s, last_error = ''
    WHERE id = ANY(%s) AND (status || '') = %s
)
INSERT INTO {log} (advertiser_account_id, request_body, response_status, response_body, outcome, error,
                   event_ids, event_count, duration_ms, created_at)
VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s)
"""


def _record_delivered_postgresql(
    account: AdvertiserAccount, rows: list[ClaimedRow], body: bytes, outcome: TrackOutcome, duration_ms: int
) -> None:
    now = timezone.now()
    sql = _DELIVERED_SQL.format(events=SignalEvent._meta.db_table, log=SignalDelivery._meta.db_table)
    event_ids = json.dumps([r.event_id for r in rows])
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                Status.DELIVERED, now, [r.pk for r in rows], Status.SENDING,
                account.pk, body.decode(), outcome.http_status, outcome.response_text,
                SignalDelivery.Outcome.DELIVERED, outcome.reason[:300], event_ids, len(rows), duration_ms, now,
            ],
        )  # fmt: skip


def _record(
    account: AdvertiserAccount, rows: list[ClaimedRow], body: bytes, outcome: TrackOutcome, duration_ms: int
) -> None:
    if outcome.kind == "ok" and connection.vendor == "postgresql":
        _record_delivered_postgresql(account, rows, body, outcome, duration_ms)
        return
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


class _Run:
    """The work of one delivery run, shared by its claimers: accounts in turn, each handed to whichever claimer
    asks next (so several claimers work on one account at once), the time budget, the batch limit, the totals.

    An account leaves the run when a claim finds nothing due, or its batch failed transiently (backing off) or
    for want of a usable token; a permanent rejection only dead-letters that batch.
    """

    def __init__(self, accounts: list[AdvertiserAccount], deadline: float, max_batches: int | None) -> None:
        self._turns = deque(account.pk for account in accounts)
        self._accounts = {account.pk: account for account in accounts}
        self._deadline = deadline
        self._max_batches = max_batches
        self._in_flight = 0
        self._lock = threading.Lock()
        self.result = RunResult()
        self.failure: BaseException | None = None

    def next_account(self) -> AdvertiserAccount | None:
        """The account to claim a batch of next (its turn goes to the back), or None when the run is over."""
        with self._lock:
            over = self.failure is not None or time.monotonic() >= self._deadline
            if self._max_batches is not None and self.result.batches + self._in_flight >= self._max_batches:
                over = True
            if over or not self._turns:
                return None
            pk = self._turns[0]
            self._turns.rotate(-1)
            self._in_flight += 1
            return self._accounts[pk]

    def done(self, result: BatchResult) -> None:
        with self._lock:
            self._in_flight -= 1
            keep = result.claimed > 0 and result.outcome in ("ok", "permanent")
            if not keep and result.account_id in self._turns:
                self._turns.remove(result.account_id)
            if not result.claimed:
                return
            run = self.result
            run.batches += 1
            run.results.append(result)
            if result.outcome == "ok":
                run.delivered += result.claimed
            elif result.outcome == "transient":
                run.retried += result.claimed
            elif result.outcome in ("permanent", "auth"):
                run.dead += result.claimed

    def claimer(self, client: EventsAPIClient) -> None:
        """Deliver batches until the run is over. Works on its own copies of the accounts (a batch refreshes its
        account in place)."""
        own: dict[int, AdvertiserAccount] = {}
        try:
            while (account := self.next_account()) is not None:
                mine = own.setdefault(account.pk, copy.copy(account))
                try:
                    result = signals_deliver_batch(account=mine, client=client)
                except BaseException:
                    self.done(BatchResult(account.pk))
                    raise
                self.done(result)
        except BaseException as exc:
            with self._lock:
                self.failure = self.failure or exc


def delivery_concurrency() -> int:
    """Claimers per run (``SIGNALS_DELIVERY_CONCURRENCY``, default 4). A claimer spends most of a batch waiting:
    for TikTok's answer (a round trip across the internet in production) and for its commit's WAL flush; four
    keep two cores busy on loopback (bench/README.md, issue 13) and overlap four requests in flight."""
    return max(1, int(_setting("SIGNALS_DELIVERY_CONCURRENCY", 4)))


def signals_deliver_pending(
    *,
    time_budget: float = 20.0,
    client: EventsAPIClient | None = None,
    max_batches: int | None = None,
    concurrency: int | None = None,
) -> RunResult:
    """Deliver due rows of every connected account, batch after batch, until none is due or ``time_budget``
    seconds have passed. An account whose batch failed transiently is left alone for the rest of the run.

    ``concurrency`` claimers (default :func:`delivery_concurrency`) work at once, each in its own thread with its
    own database connection, sharing ``client`` (httpx clients are thread-safe). Inside a caller's transaction,
    and on SQLite, there is one claimer on the caller's connection: another connection could not see the
    caller's uncommitted rows, and SQLite serializes writers anyway. Raises what a claimer raised, after the
    others stopped.
    """
    claimers = delivery_concurrency() if concurrency is None else max(1, concurrency)
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        claimers = 1
    deadline = time.monotonic() + time_budget
    own_client = client is None
    client = client or EventsAPIClient()
    try:
        run = _Run(accounts_with_due_rows(), deadline, max_batches)
        if claimers == 1:
            run.claimer(client)
        else:
            threads = [
                threading.Thread(target=_in_own_connection, args=(run.claimer, client), name=f"signals-claimer-{n}")
                for n in range(claimers)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        if run.failure is not None:
            raise run.failure
    finally:
        if own_client:
            client.close()
    return run.result


def _in_own_connection(work: Callable[[EventsAPIClient], None], client: EventsAPIClient) -> None:
    try:
        work(client)
    finally:
        connections.close_all()  # this thread's connections only


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
