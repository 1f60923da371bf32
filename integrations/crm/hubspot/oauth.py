"""HubSpot OAuth for a public app: the authorize URL, the code exchange and the token's metadata (portal, scopes).

https://developers.hubspot.com/docs/api/oauth-quickstart-guide; the refresh grant:
https://developers.hubspot.com/docs/api-reference/legacy/authentication/oauth-tokens/v1/refresh-oauth-token
(``POST /oauth/v1/token``, form-encoded, ``grant_type=refresh_token``; HubSpot announced v1's deprecation for
February 2027 in favour of ``/oauth/v3/token``). When to refresh, and the lock, are in
``integrations.crm.services.connection``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import httpx
from django.conf import settings

from integrations.crm.hubspot.client import HubSpotError

SCOPES = (
    "oauth",
    "crm.objects.contacts.read",
    "crm.objects.contacts.write",
    "crm.objects.deals.read",
    "crm.objects.deals.write",
    "crm.objects.owners.read",
)


def oauth_available() -> bool:
    return bool(settings.HUBSPOT_CLIENT_ID and settings.HUBSPOT_CLIENT_SECRET)


def authorize_url(*, redirect_uri: str, state: str) -> str:
    query = {"client_id": settings.HUBSPOT_CLIENT_ID, "redirect_uri": redirect_uri, "scope": " ".join(SCOPES),
             "state": state}  # fmt: skip
    return f"{settings.HUBSPOT_AUTH_URL}?{urlencode(query)}"


def exchange_code(*, code: str, redirect_uri: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Trade the authorization code for tokens, then read which portal and scopes they are for."""
    base = settings.HUBSPOT_API_BASE.rstrip("/")
    timeout = settings.PROVIDER_HTTP_TIMEOUT
    try:
        response = httpx.post(
            f"{base}/oauth/v1/token",
            data={"grant_type": "authorization_code", "client_id": settings.HUBSPOT_CLIENT_ID,
                  "client_secret": settings.HUBSPOT_CLIENT_SECRET, "redirect_uri": redirect_uri, "code": code},
            timeout=timeout,
        )  # fmt: skip
        if response.status_code != 200:
            raise HubSpotError(f"HubSpot refused the authorization code ({response.status_code})", status=400)
        tokens = response.json()
        info = httpx.get(f"{base}/oauth/v1/access-tokens/{tokens['access_token']}", timeout=timeout)
        if info.status_code != 200:
            raise HubSpotError("HubSpot did not describe the new token", status=info.status_code)
        return tokens, info.json()
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        raise HubSpotError(f"could not complete the HubSpot authorization ({exc.__class__.__name__})") from exc


def refresh_tokens(*, refresh_token: str) -> dict[str, Any]:
    """A new access token for ``refresh_token``: ``{"access_token", "refresh_token", "expires_in"}``.

    Raises :class:`HubSpotError`: ``transient`` when HubSpot could not be reached or failed (try again later),
    otherwise HubSpot refused the refresh token (the app was uninstalled or the token revoked).
    """
    base = settings.HUBSPOT_API_BASE.rstrip("/")
    try:
        response = httpx.post(
            f"{base}/oauth/v1/token",
            data={"grant_type": "refresh_token", "client_id": settings.HUBSPOT_CLIENT_ID,
                  "client_secret": settings.HUBSPOT_CLIENT_SECRET, "refresh_token": refresh_token},
            timeout=settings.PROVIDER_HTTP_TIMEOUT,
        )  # fmt: skip
    except httpx.HTTPError as exc:
        raise HubSpotError(f"could not reach HubSpot to renew the token ({exc.__class__.__name__})",
                           transient=True) from exc  # fmt: skip
    if response.status_code >= 500 or response.status_code == 429:
        raise HubSpotError(f"HubSpot could not renew the token (HTTP {response.status_code})", transient=True)
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200 or not isinstance(body, dict) or not body.get("access_token"):
        reason = body.get("message") or body.get("status") if isinstance(body, dict) else ""
        raise HubSpotError(
            f"HubSpot refused to renew the access token ({reason or f'HTTP {response.status_code}'})",
            status=401, category="BAD_REFRESH_TOKEN", body=body,
        )  # fmt: skip
    return body
