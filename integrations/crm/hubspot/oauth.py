"""HubSpot OAuth for a public app: the authorize URL, the code exchange and the token's metadata (portal, scopes).

https://developers.hubspot.com/docs/api/oauth-quickstart-guide. The refresh of expiring tokens belongs with the
connections app's OAuth machinery once it manages HubSpot too; until then a private-app token needs none.
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
