"""Operations plumbing shared by every app: health checks, Prometheus metrics, request ids in logs, task locks.

Apps contribute metric families by registering a collector function in their ``AppConfig.ready()``; the project
package only serves them, it knows nothing of the domain.
"""

from __future__ import annotations

import contextvars
import functools
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import Metric

logger = logging.getLogger(__name__)

# -- request ids ---------------------------------------------------------------------------------------------

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
REQUEST_ID_HEADER = "X-Request-ID"


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


class RequestIdMiddleware:
    """Give every request an id (or keep the proxy's), expose it in logs and in the response header."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if incoming.isalnum() and len(incoming) <= 64 else new_request_id()
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id and any ``extra`` fields."""

    RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "request_id"}

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        entry.update({k: _loggable(v) for k, v in vars(record).items() if k not in self.RESERVED})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def _loggable(value: Any) -> Any:
    """An ``extra`` value as it may be logged. A request (``django.request`` adds one to every 4xx/5xx record)
    shows its method and path only: its query string can carry tokens (``hub.verify_token``, OAuth codes)."""
    if isinstance(value, HttpRequest):
        return f"{value.method} {value.path}"
    return value


def connect_celery_request_ids() -> None:
    """Carry the request id from the web process into the tasks it enqueues."""
    from celery.signals import before_task_publish, task_postrun, task_prerun

    @before_task_publish.connect(weak=False)
    def _add_header(headers: dict[str, Any] | None = None, **_: Any) -> None:
        if headers is not None:
            headers.setdefault("request_id", request_id_var.get())

    @task_prerun.connect(weak=False)
    def _set(task: Any = None, **_: Any) -> None:
        incoming = getattr(getattr(task, "request", None), "request_id", None)
        task._request_id_token = request_id_var.set(incoming or new_request_id())

    @task_postrun.connect(weak=False)
    def _reset(task: Any = None, **_: Any) -> None:
        token = getattr(task, "_request_id_token", None)
        if token is not None:
            request_id_var.reset(token)


# -- locks for periodic tasks --------------------------------------------------------------------------------


#: How long the lock of a holder that died (SIGKILL, lost machine) keeps others out: the holder renews it
#: every third of this while it runs.
SINGLE_INSTANCE_LEASE_SECONDS = 15


def single_instance(
    name: str, ttl: int = 300, lease: int | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Run the wrapped function in at most one process at a time (a cache lock: Redis in production).

    A second caller returns ``None`` at once instead of waiting: beat may enqueue a sweep again while the last
    one is still running, and two workers must never run it together. The lock is a short lease (``lease``
    seconds, default :data:`SINGLE_INSTANCE_LEASE_SECONDS`) that a thread renews while the function runs, up
    to ``ttl`` seconds in all; it is released at the end. So a worker killed mid-run delays the next run by
    one lease, not by ``ttl``.
    """
    # Whole seconds: the Redis cache backend truncates timeouts to integers.
    lease_seconds = max(1, int(lease if lease is not None else SINGLE_INSTANCE_LEASE_SECONDS))

    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            key = f"lock:{name}"
            token = uuid.uuid4().hex
            if not cache.add(key, token, lease_seconds):
                logger.info("skipped: another run holds the lock", extra={"lock": name})
                return None
            stop = threading.Event()
            # This thread's cache client (thread-safe) rather than a new connection in the renewing thread.
            backend = caches["default"]
            renewer = threading.Thread(
                target=_renew_lease,
                args=(backend, key, token, lease_seconds, time.monotonic() + ttl, stop),
                daemon=True,
            )
            renewer.start()
            try:
                return function(*args, **kwargs)
            finally:
                stop.set()
                renewer.join()
                if cache.get(key) == token:
                    cache.delete(key)

        return wrapper

    return decorate


def _renew_lease(backend: Any, key: str, token: str, lease: int, until: float, stop: threading.Event) -> None:
    """Extend the lock while its holder runs (and at most until ``until``); stop when it is no longer ours."""
    try:
        while not stop.wait(lease / 3) and time.monotonic() < until:
            if backend.get(key) != token or not backend.touch(key, lease):
                return
    except Exception:  # a cache outage ends the renewal; the lease then simply runs out
        logger.warning("could not renew a lock", extra={"lock": key}, exc_info=True)


# -- health --------------------------------------------------------------------------------------------------


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return "ok"


def _check_redis() -> str:
    if not settings.REDIS_URL:
        return "not configured (embedded)"
    import redis

    redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2).ping()
    return "ok"


def _check_broker() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "not configured (tasks run in-process)"
    from switchboard.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return "ok"


HEALTH_CHECKS: dict[str, Callable[[], str]] = {
    "database": _check_database,
    "redis": _check_redis,
    "broker": _check_broker,
}


def readiness() -> tuple[bool, dict[str, str]]:
    results: dict[str, str] = {}
    ready = True
    for name, check in HEALTH_CHECKS.items():
        try:
            results[name] = check()
        except Exception as exc:  # a failed dependency is reported, never raised
            ready = False
            results[name] = f"failing: {exc.__class__.__name__}"
    return ready, results


def live(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "alive"})


def ready(request: HttpRequest) -> JsonResponse:
    is_ready, results = readiness()
    return JsonResponse({"status": "ready" if is_ready else "not ready", "checks": results},
                        status=200 if is_ready else 503)


# -- metrics -------------------------------------------------------------------------------------------------

MetricSource = Callable[[], Iterable[Metric]]
_metric_sources: list[MetricSource] = []


def register_metrics(source: MetricSource) -> None:
    """Apps add a function yielding prometheus_client metric families, computed at scrape time."""
    if source not in _metric_sources:
        _metric_sources.append(source)


class _SourcesCollector:
    def collect(self) -> Iterable[Metric]:
        for source in _metric_sources:
            try:
                yield from source()
            except Exception:
                logger.exception("a metrics source failed", extra={"source": getattr(source, "__name__", "?")})


def render_metrics() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_SourcesCollector())
    return generate_latest(registry)


def metrics(request: HttpRequest) -> HttpResponse:
    allowed = request.META.get("REMOTE_ADDR") in settings.METRICS_ALLOWED_IPS or (
        request.user.is_authenticated and request.user.is_staff
    )
    if not allowed:
        return HttpResponse("metrics are for operators", status=403, content_type="text/plain")
    started = time.perf_counter()
    body = render_metrics()
    logger.debug("metrics rendered", extra={"ms": round((time.perf_counter() - started) * 1000, 1)})
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)


CELERY_QUEUES = ("ingest", "outbound", "signals", "integrations", "default")


def queue_depth_metrics() -> Iterable[Metric]:
    """Messages waiting per Celery queue (Redis broker lists)."""
    from prometheus_client.core import GaugeMetricFamily

    if not settings.REDIS_URL or settings.CELERY_TASK_ALWAYS_EAGER:
        return
    import redis

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=2)
    family = GaugeMetricFamily("switchboard_queue_depth", "Tasks waiting in each Celery queue", labels=["queue"])
    for queue in CELERY_QUEUES:
        family.add_metric([queue], client.llen(queue))
    yield family


register_metrics(queue_depth_metrics)


# -- open websockets, per process -----------------------------------------------------------------------------
# Websockets live in the ASGI processes while /metrics is served by any (WSGI) process, so each ASGI process
# publishes its own count to Redis under a key with a TTL (a process that died stops being reported); embedded,
# without Redis, the count of this process is the whole truth.

WEBSOCKET_KEY_PREFIX = "switchboard:websockets:"
# Republished every WEBSOCKET_REFRESH_SECONDS by a thread of the process (sockets of agents on the list page send
# nothing for hours), so the key outlives a live process and expires within WEBSOCKET_KEY_TTL of a dead one.
WEBSOCKET_REFRESH_SECONDS = 60
WEBSOCKET_KEY_TTL = 3 * WEBSOCKET_REFRESH_SECONDS
_websocket_lock = threading.Lock()
_websocket_count = 0
_websocket_published_at = 0.0
_websocket_refresher: threading.Thread | None = None


def process_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _publish_websockets(count: int) -> None:
    if not settings.REDIS_URL:
        return
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2).set(
            WEBSOCKET_KEY_PREFIX + process_name(), count, ex=WEBSOCKET_KEY_TTL
        )
    except redis.RedisError:  # a gauge must never break an agent's websocket
        logger.warning("could not publish the websocket gauge", exc_info=True)


def websocket_changed(delta: int) -> None:
    """A consumer connected (+1), disconnected (-1) or is alive (0, refreshes the published value's TTL)."""
    global _websocket_count, _websocket_published_at
    now = time.monotonic()
    with _websocket_lock:
        if delta == 0 and now - _websocket_published_at < WEBSOCKET_REFRESH_SECONDS:
            return
        _websocket_count = max(0, _websocket_count + delta)
        count, _websocket_published_at = _websocket_count, now
    _ensure_websocket_refresher()
    _publish_websockets(count)


def _ensure_websocket_refresher() -> None:
    """Start, once per process, the thread that keeps this process's published count from expiring."""
    global _websocket_refresher
    if not settings.REDIS_URL:
        return
    with _websocket_lock:
        if _websocket_refresher is not None and _websocket_refresher.is_alive():
            return
        _websocket_refresher = threading.Thread(
            target=_refresh_websocket_gauge, args=(threading.Event(),), name="websocket-gauge", daemon=True
        )
        _websocket_refresher.start()


def _refresh_websocket_gauge(stop: threading.Event) -> None:
    while not stop.wait(WEBSOCKET_REFRESH_SECONDS / 2):
        websocket_changed(0)


def open_websockets() -> dict[str, int]:
    """Open websocket connections per process name."""
    if not settings.REDIS_URL:
        return {process_name(): _websocket_count}
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2)
    keys = list(client.scan_iter(match=WEBSOCKET_KEY_PREFIX + "*", count=500))
    counts: dict[str, int] = {}
    for key, value in zip(keys, client.mget(keys) if keys else [], strict=True):
        if value is not None:
            counts[key.decode()[len(WEBSOCKET_KEY_PREFIX) :]] = int(value)
    return counts


def websocket_metrics() -> Iterable[Metric]:
    from prometheus_client.core import GaugeMetricFamily

    family = GaugeMetricFamily(
        "switchboard_websocket_connections", "Open websocket connections per ASGI process", labels=["process"]
    )
    for name, count in sorted(open_websockets().items()):
        family.add_metric([name], count)
    yield family


register_metrics(websocket_metrics)


# -- the operators' page --------------------------------------------------------------------------------------


def _samples() -> list[tuple[str, str, float]]:
    """Every metric sample as (name, labels, value), for people without Prometheus."""
    from prometheus_client.parser import text_string_to_metric_families

    rows = []
    for family in text_string_to_metric_families(render_metrics().decode()):
        for sample in family.samples:
            labels = ", ".join(f"{key}={value}" for key, value in sorted(sample.labels.items()))
            rows.append((sample.name, labels, sample.value))
    return rows


def system_page(request: HttpRequest) -> HttpResponse:
    """Health and queue figures for staff operators (the same as /health/ready and /metrics)."""
    from django.shortcuts import render

    if not (request.user.is_authenticated and request.user.is_staff):
        return render(request, "system/forbidden.html", status=403)
    is_ready, checks = readiness()
    return render(request, "system/index.html", {"ready": is_ready, "checks": checks, "samples": _samples()})
