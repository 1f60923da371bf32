"""The OAuth calls Switchboard makes as a client of TikTok and Meta. The only code here reading their JSON.

TikTok business accounts (Business Messaging API, ``tt_user`` OAuth):
https://business-api.tiktok.com/portal/docs?id=1832184159540418 (token), ``.../tt_user/oauth2/refresh_token/``,
``.../business/get/`` (profile) and ``.../business/webhook/update/`` (callback URL for ``DIRECT_MESSAGE``).
TikTok for Business advertisers: https://business-api.tiktok.com/portal/docs?id=1739965703387137
(``oauth2/access_token/``, ``oauth2/revoke_token/``). Every TikTok answer is HTTP 200 with
``{"code", "message", "data"}``; a non-zero code is the error.
Meta: Facebook Login for a Page (https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow),
``GET /me/accounts`` for page tokens and ``POST /{page-id}/subscribed_apps``; WhatsApp Cloud API phone numbers
(``GET /{phone-number-id}``, ``GET /{waba-id}/phone_numbers``, ``POST /{waba-id}/subscribed_apps``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import httpx
from django.conf import settings

from integrations.connections.endpoints import Endpoints
from integrations.meta.errors import GraphError
from integrations.meta.graph import GraphClient
from switchboard.http import ProviderHTTPClient, RetryPolicy, TransportFailure

TIKTOK_SCOPES = ("user.info.basic", "user.info.username", "user.info.profile", "message.list.read",
                 "message.list.send", "message.list.manage")
MESSENGER_SCOPES = ("pages_show_list", "pages_messaging", "pages_manage_metadata")
MESSENGER_FIELDS = "messages,messaging_postbacks,messaging_referrals,message_echoes,message_deliveries,message_reads"
RETRY = RetryPolicy(attempts=2, base_delay=0.2, max_delay=1.0)


class OAuthError(Exception):
    """A provider refused or could not be reached. ``kind``: network, refused, invalid_grant, denied."""

    def __init__(self, reason: str, *, kind: str = "refused"):
        super().__init__(reason)
        self.reason = reason
        self.kind = kind


@dataclass(frozen=True)
class TikTokTokens:
    open_id: str
    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int
    scopes: list[str] = field(default_factory=list)


def _http(base: str) -> ProviderHTTPClient:
    return ProviderHTTPClient(base, timeout=settings.PROVIDER_HTTP_TIMEOUT, retry=RETRY)


def _tiktok_call(ep: Endpoints, method: str, path: str, *, token: str = "", **kwargs: Any) -> dict[str, Any]:
    headers = {"Access-Token": token} if token else {}
    try:
        with _http(ep.tiktok_api_base) as client:
            response = client.request(method, path, headers=headers, **kwargs)
    except TransportFailure as exc:
        raise OAuthError(f"TikTok could not be reached: {exc.reason}", kind="network") from exc
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("code"), int):
        raise OAuthError(f"TikTok answered HTTP {response.status_code} without its usual envelope")
    if body["code"] != 0:
        raise OAuthError(f"TikTok refused: {body.get('message') or 'error'} (code {body['code']})")
    data = body.get("data")
    return data if isinstance(data, dict) else {}


def _scopes(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, str):
        return [s for s in value.replace(",", " ").split() if s]
    return []


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


# -- TikTok business account ---------------------------------------------------------------------------------
def tiktok_authorize_url(ep: Endpoints, *, redirect_uri: str, state: str) -> str:
    query = urlencode({"client_key": ep.tiktok_client_key, "response_type": "code", "scope": ",".join(TIKTOK_SCOPES),
                       "redirect_uri": redirect_uri, "state": state})
    return f"{ep.tiktok_auth_base.rstrip('/')}/v2/auth/authorize?{query}"


def _tiktok_tokens(data: dict[str, Any], open_id: str = "") -> TikTokTokens:
    access_token = data.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise OAuthError("TikTok's answer carries no access token")
    return TikTokTokens(
        open_id=str(data.get("open_id") or open_id),
        access_token=access_token,
        refresh_token=str(data.get("refresh_token") or ""),
        expires_in=_int(data.get("expires_in"), 86400),
        refresh_expires_in=_int(data.get("refresh_token_expires_in"), 365 * 86400),
        scopes=_scopes(data.get("scope")),
    )


def tiktok_exchange_code(ep: Endpoints, *, code: str, redirect_uri: str) -> TikTokTokens:
    data = _tiktok_call(ep, "POST", "/open_api/v1.3/tt_user/oauth2/token/", json={
        "client_id": ep.tiktok_client_key, "client_secret": ep.tiktok_client_secret,
        "grant_type": "authorization_code", "auth_code": code, "redirect_uri": redirect_uri,
    })
    tokens = _tiktok_tokens(data)
    if not tokens.open_id:
        raise OAuthError("TikTok's answer does not name the business account (open_id)")
    return tokens


def tiktok_refresh(ep: Endpoints, *, refresh_token: str, open_id: str) -> TikTokTokens:
    data = _tiktok_call(ep, "POST", "/open_api/v1.3/tt_user/oauth2/refresh_token/", json={
        "client_id": ep.tiktok_client_key, "client_secret": ep.tiktok_client_secret,
        "grant_type": "refresh_token", "refresh_token": refresh_token,
    })
    return _tiktok_tokens(data, open_id)


def tiktok_revoke(ep: Endpoints, *, access_token: str) -> None:
    _tiktok_call(ep, "POST", "/open_api/v1.3/tt_user/oauth2/revoke/", json={
        "client_id": ep.tiktok_client_key, "client_secret": ep.tiktok_client_secret, "access_token": access_token,
    })


def tiktok_business_profile(ep: Endpoints, *, access_token: str, business_id: str) -> dict[str, str]:
    data = _tiktok_call(ep, "GET", "/open_api/v1.3/business/get/", token=access_token, params={
        "business_id": business_id, "fields": json.dumps(["username", "display_name", "profile_image"]),
    })
    return {key: str(data.get(key) or "") for key in ("username", "display_name", "profile_image")}


def tiktok_subscribe_webhook(ep: Endpoints, *, callback_url: str) -> None:
    _tiktok_call(ep, "POST", "/open_api/v1.3/business/webhook/update/", json={
        "app_id": ep.tiktok_client_key, "secret": ep.tiktok_client_secret,
        "event_type": "DIRECT_MESSAGE", "callback_url": callback_url,
    })


# -- TikTok for Business advertiser ---------------------------------------------------------------------------
def ads_authorize_url(ep: Endpoints, *, redirect_uri: str, state: str) -> str:
    query = urlencode({"app_id": ep.tiktok_ads_app_id, "state": state, "redirect_uri": redirect_uri})
    return f"{ep.tiktok_ads_auth_url}?{query}"


def ads_exchange_code(ep: Endpoints, *, auth_code: str) -> tuple[str, list[str], list[str]]:
    """``(access_token, advertiser_ids, scopes)`` for a one-hour, single-use ``auth_code``."""
    data = _tiktok_call(ep, "POST", "/open_api/v1.3/oauth2/access_token/", json={
        "app_id": ep.tiktok_ads_app_id, "secret": ep.tiktok_ads_secret, "auth_code": auth_code,
    })
    token = data.get("access_token")
    if not isinstance(token, str) or not token:
        raise OAuthError("TikTok's answer carries no access token")
    ids = data.get("advertiser_ids")
    return token, [str(i) for i in ids] if isinstance(ids, list) else [], _scopes(data.get("scope"))


def ads_revoke(ep: Endpoints, *, access_token: str) -> None:
    _tiktok_call(ep, "POST", "/open_api/v1.3/oauth2/revoke_token/", json={
        "app_id": ep.tiktok_ads_app_id, "secret": ep.tiktok_ads_secret, "access_token": access_token,
    })


# -- Meta -----------------------------------------------------------------------------------------------------
def _graph(
    ep: Endpoints,
    method: str,
    path: str,
    *,
    token: str = "",
    params: dict[str, str] | None = None,
    payload: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One Graph API call through the Meta providers' client (:class:`integrations.meta.graph.GraphClient`:
    retries, JSON-object check, Graph's error envelope), its failure told as an :class:`OAuthError`.

    Calls made before any user token exists (the code exchange) authenticate with the app access token
    (``app_id|app_secret``), which Graph accepts wherever the app's credentials are asked for.
    """
    bearer = token or f"{ep.meta_app_id}|{ep.meta_app_secret}"
    with GraphClient(bearer, base_url=ep.meta_graph_base, api_version=ep.meta_version, retry=RETRY) as client:
        full_path = f"/{client.api_version}/{path.lstrip('/')}"
        try:
            if method == "GET":
                return client.get(full_path, params)
            if method == "POST":
                return client.post(full_path, payload or {})
            if method == "DELETE":
                return client.delete(full_path, params)
            raise ValueError(f"unsupported Graph method {method}")
        except GraphError as exc:
            if exc.transient:
                raise OAuthError(f"Meta could not be reached: {exc.message}", kind="network") from exc
            kind = "invalid_grant" if exc.code in (100, 190) else "refused"
            raise OAuthError(f"Meta refused: {exc.message}", kind=kind) from exc


def messenger_dialog_url(ep: Endpoints, *, redirect_uri: str, state: str) -> str:
    query = urlencode({"client_id": ep.meta_app_id, "redirect_uri": redirect_uri, "state": state,
                       "response_type": "code", "scope": ",".join(MESSENGER_SCOPES)})
    return f"{ep.meta_dialog_base.rstrip('/')}/{ep.meta_version.strip('/')}/dialog/oauth?{query}"


def messenger_exchange_code(ep: Endpoints, *, code: str, redirect_uri: str) -> str:
    body = _graph(ep, "GET", "oauth/access_token", params={
        "client_id": ep.meta_app_id, "client_secret": ep.meta_app_secret, "redirect_uri": redirect_uri, "code": code,
    })
    token = body.get("access_token")
    if not isinstance(token, str) or not token:
        raise OAuthError("Meta's answer carries no access token")
    # A short-lived user token yields page tokens that die within hours; a long-lived one yields page tokens
    # that do not expire. https://developers.facebook.com/docs/facebook-login/guides/access-tokens/get-long-lived
    long_lived = _graph(ep, "GET", "oauth/access_token", params={
        "grant_type": "fb_exchange_token", "client_id": ep.meta_app_id, "client_secret": ep.meta_app_secret,
        "fb_exchange_token": token,
    }).get("access_token")
    if not isinstance(long_lived, str) or not long_lived:
        raise OAuthError("Meta did not exchange the user token for a long-lived one")
    return long_lived


def messenger_pages(ep: Endpoints, *, user_token: str) -> list[dict[str, str]]:
    """The pages the user manages, each ``{"id", "name", "access_token"}`` (page tokens: keep them secret)."""
    body = _graph(ep, "GET", "me/accounts", token=user_token, params={"fields": "id,name,access_token,tasks"})
    pages = body.get("data")
    result = []
    for page in pages if isinstance(pages, list) else []:
        if isinstance(page, dict) and page.get("id") and page.get("access_token"):
            result.append({"id": str(page["id"]), "name": str(page.get("name") or page["id"]),
                           "access_token": str(page["access_token"])})
    return result


def messenger_subscribe_page(ep: Endpoints, *, page_id: str, page_token: str) -> None:
    body = _graph(ep, "POST", f"{quote(page_id, safe='')}/subscribed_apps", token=page_token,
                  payload={"subscribed_fields": MESSENGER_FIELDS})
    if body.get("success") is not True:
        raise OAuthError("Meta did not confirm the page's webhook subscription")


def messenger_unsubscribe_page(ep: Endpoints, *, page_id: str, page_token: str) -> None:
    _graph(ep, "DELETE", f"{quote(page_id, safe='')}/subscribed_apps", token=page_token)


def whatsapp_validate(ep: Endpoints, *, phone_number_id: str, waba_id: str, token: str) -> dict[str, str]:
    """Check the token reads the number and the number belongs to the WhatsApp Business account; subscribe the
    app to the account's webhooks. Returns the number's ``display_phone_number`` and ``verified_name``."""
    number = _graph(ep, "GET", quote(phone_number_id, safe=""), token=token,
                    params={"fields": "display_phone_number,verified_name"})
    listed = _graph(ep, "GET", f"{quote(waba_id, safe='')}/phone_numbers", token=token)
    ids = {str(n.get("id")) for n in listed.get("data", []) if isinstance(n, dict)}
    if phone_number_id not in ids:
        raise OAuthError("This phone number id does not belong to that WhatsApp Business account id")
    _graph(ep, "POST", f"{quote(waba_id, safe='')}/subscribed_apps", token=token)
    return {"display_phone_number": str(number.get("display_phone_number") or ""),
            "verified_name": str(number.get("verified_name") or "")}


def is_network_error(exc: Exception) -> bool:
    return isinstance(exc, OAuthError) and exc.kind == "network" or isinstance(exc, httpx.TransportError)
