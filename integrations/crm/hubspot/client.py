"""A thin HubSpot CRM v3 client: bearer token, the shared rate limiter before every request, retries of 429/5xx.

Documentation: https://developers.hubspot.com/docs/api/crm/contacts (batch upsert, search),
https://developers.hubspot.com/docs/api/crm/deals, https://developers.hubspot.com/docs/api/crm/engagements,
https://developers.hubspot.com/docs/api/usage-details (rate limits and ``X-HubSpot-RateLimit-*`` headers),
https://developers.hubspot.com/docs/api/private-apps, https://developers.hubspot.com/docs/api/oauth-quickstart-guide.

It does not use :class:`switchboard.http.ProviderHTTPClient` because every attempt must first take a slot from the
shared limiter, and a 429 must block the whole portal for every worker (not only this request) using HubSpot's
headers. Retries inside one call are short (``max_wait``); longer waits surface as :class:`HubSpotError` with
``retry_after`` so the sync reschedules the item rather than holding a worker.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Any

import httpx
from django.conf import settings

from integrations.crm.limiter import RateLimitWait, SharedRateLimiter, burst_limit, search_limit

logger = logging.getLogger(__name__)

# Association type ids HubSpot defines (https://developers.hubspot.com/docs/api/crm/associations).
DEAL_TO_CONTACT = 3
MEETING_TO_CONTACT = 200
NOTE_TO_CONTACT = 202


class HubSpotError(Exception):
    """A request HubSpot refused or could not answer. ``transient``: worth retrying later."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        category: str = "",
        transient: bool = False,
        retry_after: float | None = None,
        body: Any = None,
    ):
        super().__init__(message)
        self.message = message
        self.status = status
        self.category = category
        self.transient = transient
        self.retry_after = retry_after
        self.body = body

    @property
    def unauthorized(self) -> bool:
        return self.status in (401, 403)


def _float_header(response: httpx.Response, name: str) -> float | None:
    value = response.headers.get(name)
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def retry_after_of(response: httpx.Response) -> float:
    """How long HubSpot wants us to wait after a 429: ``Retry-After``, else the rate-limit interval, else the
    policy's window (one second for search, ten for the burst limit)."""
    seconds = _float_header(response, "retry-after")
    if seconds is not None:
        return max(0.0, seconds)
    interval_ms = _float_header(response, "x-hubspot-ratelimit-interval-milliseconds")
    if interval_ms is not None:
        return interval_ms / 1000.0
    try:
        policy = str(response.json().get("policyName", ""))
    except ValueError:
        policy = ""
    return 1.0 if policy == "SECONDLY" else 10.0


class HubSpotClient:
    def __init__(
        self,
        *,
        token: str | None,
        limiter_key: str,
        base_url: str | None = None,
        limiter: SharedRateLimiter | None = None,
        timeout: float | None = None,
        attempts: int = 4,
        max_wait: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        renew_token: Callable[[str], str] | None = None,
    ):
        """``renew_token(rejected_token)`` returns the token to use, or raises :class:`HubSpotError`: called before
        the first request when ``token`` is None (so a failed renewal surfaces where callers record request
        failures), and once per request when HubSpot answers 401 (a token that died early)."""
        self.base_url = (base_url or settings.HUBSPOT_API_BASE).rstrip("/")
        self.limiter_key = limiter_key
        self.limiter = limiter or SharedRateLimiter()
        self.attempts = attempts
        self.max_wait = float(max_wait if max_wait is not None else getattr(settings, "HUBSPOT_MAX_WAIT_SECONDS", 15))
        self._sleep = sleep
        self._token = token
        self._renew_token = renew_token
        self._client = httpx.Client(
            timeout=timeout or settings.PROVIDER_HTTP_TIMEOUT,
            headers={"Accept": "application/json"},
        )
        if token is not None:
            self._use_token(token)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HubSpotClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the one request loop -------------------------------------------------------------------------------
    def request(self, method: str, path: str, *, json: Any = None, params: Any = None, search: bool = False) -> Any:
        limits = [search_limit(), burst_limit()] if search else [burst_limit()]
        last: HubSpotError | None = None
        renewed = False
        if self._token is None and self._renew_token is not None:
            self._use_token(self._renew_token(""))
        for attempt in range(self.attempts):
            try:
                self.limiter.acquire(self.limiter_key, limits, max_wait=self.max_wait)
            except RateLimitWait as wait:
                raise HubSpotError(
                    "waiting for HubSpot's rate limit", transient=True, retry_after=wait.retry_after, category="LIMIT"
                ) from None
            try:
                response = self._client.request(method, f"{self.base_url}{path}", json=json, params=params)
            except httpx.TimeoutException:
                last = HubSpotError("HubSpot did not answer in time", transient=True)
            except httpx.TransportError as exc:
                last = HubSpotError(f"could not reach HubSpot ({exc.__class__.__name__})", transient=True)
            else:
                self._note_remaining(response)
                if response.status_code < 300 or response.status_code == 207:
                    return response.json() if response.content else {}
                last = self._error(response)
                if response.status_code == 401 and self._renew_token is not None and not renewed:
                    renewed = True
                    self._use_token(self._renew_token(self._token))
                    continue
                if not last.transient:
                    raise last
            if attempt + 1 >= self.attempts:
                break
            delay = last.retry_after if last.retry_after is not None else random.uniform(0, 0.25 * 2**attempt)
            if delay > self.max_wait:
                break
            logger.info("HubSpot %s %s: %s; retrying in %.2fs", method, path, last.message, delay)
            self._sleep(delay)
        assert last is not None
        raise last

    def _use_token(self, token: str) -> None:
        self._token = token
        self._client.headers["Authorization"] = f"Bearer {token}"

    def _note_remaining(self, response: httpx.Response) -> None:
        # HubSpot says how many requests are left in the current interval: at zero, every worker waits it out.
        remaining = _float_header(response, "x-hubspot-ratelimit-remaining")
        interval_ms = _float_header(response, "x-hubspot-ratelimit-interval-milliseconds")
        if remaining is not None and remaining <= 0 and interval_ms and response.status_code != 429:
            self.limiter.block(self.limiter_key, interval_ms / 1000.0)

    def _error(self, response: httpx.Response) -> HubSpotError:
        try:
            body = response.json()
        except ValueError:
            body = None
        message = (body or {}).get("message") if isinstance(body, dict) else None
        category = (body or {}).get("category", "") if isinstance(body, dict) else ""
        status = response.status_code
        if status == 429:
            retry_after = retry_after_of(response)
            self.limiter.block(self.limiter_key, retry_after)
            return HubSpotError(
                message or "HubSpot rate limit reached", status=status, category=category or "RATE_LIMITS",
                transient=True, retry_after=retry_after, body=body,
            )  # fmt: skip
        transient = status >= 500 or status in (408, 425)
        retry_after = _float_header(response, "retry-after") if transient else None
        return HubSpotError(
            message or f"HubSpot answered HTTP {status}", status=status, category=category, transient=transient,
            retry_after=retry_after, body=body,
        )  # fmt: skip

    # -- endpoints ------------------------------------------------------------------------------------------
    def private_app_token_info(self, token: str) -> dict[str, Any]:
        return self.request("POST", "/oauth/v2/private-apps/get/access-token-info", json={"tokenKey": token})

    def oauth_token_info(self, token: str) -> dict[str, Any]:
        return self.request("GET", f"/oauth/v1/access-tokens/{token}")

    def contacts_search(self, filter_groups: list[dict[str, Any]], properties: list[str]) -> list[dict[str, Any]]:
        body = {"filterGroups": filter_groups, "properties": properties, "limit": 100}
        return self.request("POST", "/crm/v3/objects/contacts/search", json=body, search=True).get("results", [])

    def contacts_batch(self, action: str, inputs: list[dict[str, Any]]) -> dict[str, Any]:
        """``action``: ``upsert`` (inputs keyed by ``idProperty``), ``update`` (by id) or ``create``."""
        assert action in ("upsert", "update", "create")
        return self.request("POST", f"/crm/v3/objects/contacts/batch/{action}", json={"inputs": inputs})

    def object_create(
        self, object_type: str, properties: dict[str, Any], *, contact_id: str | None, association_type: int
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"properties": properties}
        if contact_id:
            body["associations"] = [
                {
                    "to": {"id": contact_id},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": association_type}],
                }
            ]
        return self.request("POST", f"/crm/v3/objects/{object_type}", json=body)

    def object_update(self, object_type: str, object_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        return self.request("PATCH", f"/crm/v3/objects/{object_type}/{object_id}", json={"properties": properties})

    def object_get(self, object_type: str, object_id: str, properties: list[str]) -> dict[str, Any]:
        return self.request(
            "GET", f"/crm/v3/objects/{object_type}/{object_id}", params={"properties": ",".join(properties)}
        )

    def owner_get(self, owner_id: str) -> dict[str, Any]:
        return self.request("GET", f"/crm/v3/owners/{owner_id}")
