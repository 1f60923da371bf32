"""The TikTok Events API client: ``POST {TIKTOK_API_BASE}/open_api/v1.3/event/track/`` with ``Access-Token``.

Documentation: TikTok Events API 2.0 (https://business-api.tiktok.com/portal/docs , "Events API");
facts and unknowns in ``shared/PROTOCOLS.md``. Every answer is HTTP 200 with ``{code, message, request_id,
data}``; ``code`` decides:

* ``0``: delivered.
* ``40100`` (throttling), codes ``>= 50000``, HTTP 429/5xx, timeouts, connection errors: transient, retried.
* :data:`AUTH_CODES` (token missing, invalid, expired or revoked; no permission): the account must be
  reconnected.
* any other non-zero code (e.g. ``40002`` invalid parameters): the batch is rejected for good.

Sandbox accounts do not use HTTP at all: :func:`sandbox_track` is Switchboard's built-in sandbox Events API,
the same function the ``/signals/sandbox-events/...`` view serves. Calling it in-process, rather than posting
to ``PUBLIC_BASE_URL``, keeps the embedded mode safe: there, Celery runs tasks eagerly inside the web process,
and a request from daphne's worker thread back to the same daphne could wait on itself (and ``PUBLIC_BASE_URL``
may not even be reachable from the server). The request body, the answer and the log are identical.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import httpx
from django.conf import settings

from switchboard.http import ProviderHTTPClient, RetryPolicy, TransportFailure

TRACK_PATH = "/open_api/v1.3/event/track/"
THROTTLED = 40100
#: Codes that mean the access token cannot be used any more (missing, invalid, expired, revoked, no permission).
AUTH_CODES = frozenset({40001, 40102, 40104, 40105, 40106})

Kind = Literal["ok", "transient", "permanent", "auth"]


@dataclass(frozen=True)
class TrackOutcome:
    """What happened to one batch: ``kind`` decides the rows' fate; the rest goes into the delivery log."""

    kind: Kind
    reason: str = ""
    http_status: int | None = None
    response_text: str = ""
    retry_after: float | None = None


def classify(code: Any, message: str) -> tuple[Kind, str]:
    """Map an envelope ``code`` to an outcome kind and a reason an admin can read."""
    if code == 0:
        return "ok", ""
    reason = f"TikTok answered code {code}: {message}"[:300]
    if code == THROTTLED or (isinstance(code, int) and code >= 50000):
        return "transient", reason
    if code in AUTH_CODES:
        return "auth", reason
    return "permanent", reason


def _throttled(response: httpx.Response) -> bool:
    try:
        code = response.json().get("code")
    except (ValueError, AttributeError):
        return False
    return code == THROTTLED or (isinstance(code, int) and code >= 50000)


class EventsAPIClient:
    """Posts encoded batches; one instance per delivery run (it holds an HTTP connection pool)."""

    def __init__(
        self,
        base_url: str | None = None,
        *,
        timeout: float | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._http = ProviderHTTPClient(
            base_url or settings.TIKTOK_API_BASE,
            timeout=timeout if timeout is not None else settings.PROVIDER_HTTP_TIMEOUT,
            # Few in-request retries: the outbox retries with a longer backoff and survives restarts.
            retry=retry or RetryPolicy(attempts=2, base_delay=0.2, max_delay=2.0),
            should_retry_body=_throttled,
            sleep=sleep,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> EventsAPIClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def track(self, body: bytes, *, access_token: str) -> TrackOutcome:
        """Post one encoded batch and classify the answer. Never raises for provider or network failures."""
        try:
            response = self._http.post(
                TRACK_PATH,
                content=body,
                headers={"Access-Token": access_token, "Content-Type": "application/json"},
            )
        except TransportFailure as failure:
            text = json.dumps(failure.body) if failure.body is not None else ""
            if failure.body and isinstance(failure.body, dict) and "code" in failure.body:
                kind, reason = classify(failure.body.get("code"), str(failure.body.get("message", "")))
                return TrackOutcome(kind, reason, failure.status, text, failure.retry_after)
            return TrackOutcome("transient", failure.reason, failure.status, text, failure.retry_after)
        text = response.text[:20_000]
        try:
            envelope = response.json()
        except ValueError:
            envelope = None
        if not isinstance(envelope, dict) or "code" not in envelope:
            return TrackOutcome(
                "permanent",
                f"unexpected answer (HTTP {response.status_code}, no code envelope)",
                response.status_code,
                text,
            )
        kind, reason = classify(envelope.get("code"), str(envelope.get("message", "")))
        return TrackOutcome(kind, reason, response.status_code, text)


# --- the built-in sandbox Events API ---------------------------------------------------------------------------


def _envelope(code: int, message: str) -> dict[str, Any]:
    return {"code": code, "message": message, "request_id": uuid.uuid4().hex, "data": {}}


def sandbox_validate(body: bytes, access_token: str) -> dict[str, Any]:
    """Validate a track request like TikTok does and answer its envelope (``code`` 0 when accepted)."""
    if not access_token:
        return _envelope(40104, "Access token is missing: set the Access-Token header.")
    try:
        payload = json.loads(body or b"null")
    except ValueError:
        return _envelope(40002, "body: not valid JSON")
    if not isinstance(payload, dict):
        return _envelope(40002, "body: must be a JSON object")
    for key in ("event_source", "event_source_id"):
        if not isinstance(payload.get(key), str) or not payload[key]:
            return _envelope(40002, f"{key}: required, a non-empty string")
    data = payload.get("data")
    if not isinstance(data, list) or not data:
        return _envelope(40002, "data: must be a non-empty list of events")
    for index, item in enumerate(data):
        where = f"data[{index}]"
        if not isinstance(item, dict):
            return _envelope(40002, f"{where}: must be an object")
        for key in ("event", "event_id"):
            if not isinstance(item.get(key), str) or not item[key]:
                return _envelope(40002, f"{where}.{key}: required, a non-empty string")
        event_time = item.get("event_time")
        if isinstance(event_time, bool) or not isinstance(event_time, int) or not 0 < event_time < 10**11:
            return _envelope(40002, f"{where}.event_time: must be an integer unix time in seconds")
        for key in ("user", "properties"):
            if key in item and not isinstance(item[key], dict):
                return _envelope(40002, f"{where}.{key}: must be an object")
    return _envelope(0, "OK")


def sandbox_track(body: bytes, *, access_token: str) -> TrackOutcome:
    """The sandbox account's delivery: :func:`sandbox_validate`, in-process (see the module docstring)."""
    answer = sandbox_validate(body, access_token)
    kind, reason = classify(answer["code"], answer["message"])
    return TrackOutcome(kind, reason, 200, json.dumps(answer))
