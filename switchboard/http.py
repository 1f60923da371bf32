"""One HTTP client for every outside service: configurable base URL, timeouts, retries with backoff and jitter.

Provider clients (``integrations/<provider>/client.py``, the TikTok Events API client in ``signals``) build on
:class:`ProviderHTTPClient` so that timeouts, 429/5xx retries and ``Retry-After`` handling behave the same way
everywhere and can be tested once against fake servers on loopback.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

logger = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class TransportFailure(Exception):
    """The request could not get a usable answer after all retries (timeouts, 429 or 5xx)."""

    def __init__(self, reason: str, *, status: int | None = None, body: Any = None, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.body = body
        self.retry_after = retry_after


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3
    base_delay: float = 0.2
    max_delay: float = 5.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Full-jitter exponential backoff; a server's ``Retry-After`` wins when it is larger."""
        backoff = random.uniform(0, min(self.max_delay, self.base_delay * (2**attempt)))
        if retry_after is not None:
            return min(self.max_delay, max(backoff, retry_after))
        return backoff


def _retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class ProviderHTTPClient:
    """A small wrapper around :class:`httpx.Client` that retries transient failures.

    ``should_retry_body`` lets a provider mark an HTTP 200 answer as transient (TikTok answers throttling with
    HTTP 200 and ``code: 40100``). The client returns the last :class:`httpx.Response` otherwise; mapping provider
    error codes to reasons is the provider module's job.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        headers: Mapping[str, str] | None = None,
        should_retry_body: Callable[[httpx.Response], bool] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self._should_retry_body = should_retry_body
        self._sleep = sleep
        self._client = httpx.Client(timeout=timeout, headers=dict(headers or {}))

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> ProviderHTTPClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        url = path if path.startswith("http") else f"{self.base_url}/{path.lstrip('/')}"
        last_failure: TransportFailure | None = None
        for attempt in range(self.retry.attempts):
            try:
                response = self._client.request(method, url, **kwargs)
            except httpx.TimeoutException:
                last_failure = TransportFailure("the provider did not answer in time")
                retry_after = None
            except httpx.TransportError as exc:
                last_failure = TransportFailure(f"could not reach the provider ({exc.__class__.__name__})")
                retry_after = None
            else:
                transient = response.status_code in RETRYABLE_STATUS or (
                    self._should_retry_body is not None and self._should_retry_body(response)
                )
                if not transient:
                    return response
                retry_after = _retry_after_seconds(response)
                last_failure = TransportFailure(
                    f"the provider answered HTTP {response.status_code}",
                    status=response.status_code,
                    body=_safe_json(response),
                    retry_after=retry_after,
                )
            if attempt + 1 < self.retry.attempts:
                delay = self.retry.delay(attempt, retry_after)
                logger.info("retrying %s %s in %.2fs: %s", method, path, delay, last_failure.reason)
                self._sleep(delay)
        assert last_failure is not None
        raise last_failure

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)


def _safe_json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
