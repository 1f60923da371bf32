"""A Graph API client for the Meta providers, on top of :class:`switchboard.http.ProviderHTTPClient`.

Base URL and version come from ``settings.META_GRAPH_API_BASE`` / ``settings.META_GRAPH_API_VERSION`` unless
given, read lazily so that importing this module needs no configured Django. Calls authenticate with
``Authorization: Bearer <token>``; transient failures (timeouts, 429, 5xx and Graph throttling codes answered
with HTTP 400) are retried by the HTTP client with backoff before a :class:`GraphError` is raised.
Documentation: https://developers.facebook.com/docs/graph-api/overview and
https://developers.facebook.com/docs/graph-api/guides/error-handling
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx

from integrations.meta.errors import THROTTLING_CODES, GraphError, error_code, graph_error_from_body
from switchboard.http import ProviderHTTPClient, RetryPolicy, TransportFailure


def _is_throttled(response: httpx.Response) -> bool:
    """Graph answers throttling with HTTP 400 and a code, so the status alone does not say "retry"."""
    if response.status_code < 400:
        return False
    try:
        return error_code(response.json()) in THROTTLING_CODES
    except ValueError:
        return False


class GraphClient:
    """One Graph API caller for one access token. Use as a context manager to close its connections."""

    def __init__(
        self,
        access_token: str,
        *,
        base_url: str | None = None,
        api_version: str | None = None,
        timeout: float | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if base_url is None or api_version is None or timeout is None:
            from django.conf import settings  # lazily: only sending needs configured settings

            base_url = base_url or settings.META_GRAPH_API_BASE
            api_version = api_version or settings.META_GRAPH_API_VERSION
            timeout = timeout if timeout is not None else settings.PROVIDER_HTTP_TIMEOUT
        self.api_version = api_version.strip("/")
        self._http = ProviderHTTPClient(
            base_url,
            timeout=timeout,
            retry=retry,
            headers={"Authorization": f"Bearer {access_token}"},
            should_retry_body=_is_throttled,
            sleep=sleep,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> GraphClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def path(self, *parts: str) -> str:
        """``/{version}/{part}/...`` with each part escaped, so an id can never reach another endpoint."""
        return "/" + "/".join([self.api_version, *(quote(p, safe="") for p in parts)])

    def post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", path, json=payload)

    def get(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        return self._call("GET", path, params=params)

    def delete(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        return self._call("DELETE", path, params=params)

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self._http.request(method, path, **kwargs)
        except TransportFailure as failure:
            raise graph_error_from_body(
                failure.body, status=failure.status, transient=True, retry_after=failure.retry_after,
                fallback=failure.reason,
            ) from failure
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.is_success and isinstance(body, dict):
            return body
        if response.is_success:
            raise GraphError("the provider answered with a body that is not a JSON object", status=response.status_code)
        raise graph_error_from_body(body, status=response.status_code)
