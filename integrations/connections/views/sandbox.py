"""The built-in sandbox authorization server: plays TikTok and Meta for the offline demo (``SANDBOX_OAUTH``).

Authorize pages with Allow and Deny, and the token, refresh, revoke, profile, webhook, page and phone-number
endpoints the connections code calls, answering in each provider's shape. Codes are single use and expire
after ten minutes; state lives in the cache. Off (404) unless ``SANDBOX_OAUTH`` is set, never in production.
The calls Switchboard makes to itself need a server that handles requests concurrently (daphne, as in
``make run``).
"""

from __future__ import annotations

import json
import secrets as token_generator
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

from integrations.connections import providers

CODE_SECONDS = 600
TOKEN_SECONDS = 86400
KEY = "connections:sandbox-oauth:"
FLOWS = {
    "tiktok": ("TikTok", "your TikTok business account", providers.TIKTOK_SCOPES),
    "tiktok_ads": ("TikTok for Business", "your advertiser accounts", ("Measurement", "Events API")),
    "messenger": ("Facebook", "your Facebook Pages", providers.MESSENGER_SCOPES),
}


def _enabled() -> None:
    if not settings.SANDBOX_OAUTH:
        raise Http404("The sandbox authorization server is off.")


def _redirect(redirect_uri: str, **params: str) -> HttpResponseRedirect:
    separator = "&" if "?" in redirect_uri else "?"
    response = HttpResponseRedirect(redirect_uri + separator + urlencode(params))
    return response


def _authorize(request: HttpRequest, flow: str) -> HttpResponse:
    _enabled()
    source = request.POST if request.method == "POST" else request.GET
    redirect_uri, state = source.get("redirect_uri", ""), source.get("state", "")
    if not redirect_uri.startswith(("http://", "https://")):
        return HttpResponse("redirect_uri is missing or not a URL", status=400, content_type="text/plain")
    provider_name, what, scopes = FLOWS[flow]
    if request.method == "GET":
        return render(request, "connections/sandbox_authorize.html", {
            "provider_name": provider_name, "what": what, "scopes": scopes, "flow": flow,
            "hidden": {k: v for k, v in request.GET.items()},
        })
    if request.POST.get("decision") != "allow":
        if flow == "messenger":
            return _redirect(redirect_uri, error="access_denied", error_reason="user_denied",
                             error_description="Permissions error", state=state)
        return _redirect(redirect_uri, error="access_denied", error_description="The user denied the request",
                         state=state)
    name = (request.POST.get("account_name") or "Sandbox Shop").strip()[:80]
    code = token_generator.token_urlsafe(18)
    cache.set(KEY + f"code:{flow}:{code}", {"name": name, "redirect_uri": redirect_uri}, CODE_SECONDS)
    if flow == "tiktok_ads":
        return _redirect(redirect_uri, auth_code=code, code=code, state=state)
    return _redirect(redirect_uri, code=code, state=state)


def tiktok_authorize(request: HttpRequest) -> HttpResponse:
    return _authorize(request, "tiktok")


def tiktok_ads_authorize(request: HttpRequest) -> HttpResponse:
    return _authorize(request, "tiktok_ads")


def meta_dialog(request: HttpRequest, version: str) -> HttpResponse:
    return _authorize(request, "messenger")


def _take_code(flow: str, code: str) -> dict[str, Any] | None:
    key = KEY + f"code:{flow}:{code}"
    data = cache.get(key)
    cache.delete(key)  # single use: a second exchange of the same code fails
    return data


def _envelope(data: dict[str, Any] | None = None, code: int = 0, message: str = "OK") -> JsonResponse:
    return JsonResponse({"code": code, "message": message, "request_id": token_generator.token_hex(8),
                         "data": data or {}})


def _issue_tiktok_tokens(open_id: str, name: str) -> dict[str, Any]:
    access, refresh = "sbx-at-" + token_generator.token_urlsafe(18), "sbx-rt-" + token_generator.token_urlsafe(18)
    cache.set(KEY + f"access:{access}", {"open_id": open_id, "name": name}, TOKEN_SECONDS)
    cache.set(KEY + f"refresh:{refresh}", {"open_id": open_id, "name": name}, 365 * 86400)
    return {"open_id": open_id, "access_token": access, "expires_in": TOKEN_SECONDS, "refresh_token": refresh,
            "refresh_token_expires_in": 365 * 86400, "scope": ",".join(providers.TIKTOK_SCOPES)}


@csrf_exempt
def tiktok_api(request: HttpRequest, rest: str) -> HttpResponse:
    """``/open_api/v1.3/...`` as TikTok answers it: HTTP 200 and ``{"code", "message", "data"}``."""
    _enabled()
    try:
        body = json.loads(request.body or b"{}") if request.method == "POST" else {}
    except ValueError:
        return _envelope(code=40002, message="the body is not JSON")
    if rest == "tt_user/oauth2/token/":
        grant = _take_code("tiktok", str(body.get("auth_code", "")))
        if grant is None or grant["redirect_uri"] != body.get("redirect_uri"):
            return _envelope(code=40001, message="auth_code is invalid or expired")
        open_id = "sbx-" + token_generator.token_hex(4) + "-" + grant["name"].lower().replace(" ", "-")[:20]
        return _envelope(_issue_tiktok_tokens(open_id, grant["name"]))
    if rest == "tt_user/oauth2/refresh_token/":
        key = KEY + f"refresh:{body.get('refresh_token', '')}"
        owner = cache.get(key)
        if owner is None:
            return _envelope(code=40001, message="refresh_token is invalid")
        cache.delete(key)
        return _envelope(_issue_tiktok_tokens(owner["open_id"], owner["name"]))
    if rest in ("tt_user/oauth2/revoke/", "oauth2/revoke_token/"):
        cache.delete(KEY + f"access:{body.get('access_token', '')}")
        return _envelope()
    if rest == "business/get/":
        owner = cache.get(KEY + f"access:{request.headers.get('Access-Token', '')}")
        if owner is None:
            return _envelope(code=40105, message="access token is invalid")
        handle = owner["name"].lower().replace(" ", "")[:24]
        return _envelope({"username": handle, "display_name": owner["name"], "profile_image": ""})
    if rest == "business/webhook/update/":
        return _envelope({"app_id": body.get("app_id"), "event_type": body.get("event_type"),
                          "callback_url": body.get("callback_url")})
    if rest == "oauth2/access_token/":
        grant = _take_code("tiktok_ads", str(body.get("auth_code", "")))
        if grant is None:
            return _envelope(code=40001, message="auth_code is invalid or expired")
        token = "sbx-ads-" + token_generator.token_urlsafe(18)
        cache.set(KEY + f"access:{token}", {"open_id": "", "name": grant["name"]}, 365 * 86400)
        return _envelope({"access_token": token, "advertiser_ids": ["7000000000001", "7000000000002"],
                          "scope": [4, 5, 6]})
    return _envelope(code=40002, message=f"the sandbox does not play {rest}")


def _graph_error(message: str, code: int = 190, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": {"message": message, "type": "OAuthException", "code": code}}, status=status)


@csrf_exempt
def meta_graph(request: HttpRequest, version: str, rest: str) -> HttpResponse:
    """The Graph API calls of Facebook Login for Pages and of the WhatsApp number check."""
    _enabled()
    token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if rest == "oauth/access_token" and request.GET.get("grant_type") == "fb_exchange_token":
        name = cache.get(KEY + f"user:{request.GET.get('fb_exchange_token', '')}")
        if name is None:
            return _graph_error("Invalid OAuth access token.")
        long_lived = "sbx-user-" + token_generator.token_urlsafe(18)
        cache.set(KEY + f"user:{long_lived}", name, CODE_SECONDS)
        return JsonResponse({"access_token": long_lived, "token_type": "bearer", "expires_in": 5183944})
    if rest == "oauth/access_token":
        grant = _take_code("messenger", request.GET.get("code", ""))
        if grant is None or grant["redirect_uri"] != request.GET.get("redirect_uri"):
            return _graph_error("This authorization code has expired or been used.", code=100)
        user_token = "sbx-user-" + token_generator.token_urlsafe(18)
        cache.set(KEY + f"user:{user_token}", grant["name"], CODE_SECONDS)
        return JsonResponse({"access_token": user_token, "token_type": "bearer", "expires_in": 5183944})
    if rest == "me/accounts":
        name = cache.get(KEY + f"user:{token}")
        if name is None:
            return _graph_error("Invalid OAuth access token.")
        pages = [{"id": f"10{i}{abs(hash(name)) % 10**8}", "name": f"{name} {label}",
                  "access_token": "sbx-page-" + token_generator.token_urlsafe(18), "tasks": ["MESSAGING"]}
                 for i, label in ((1, "Page"), (2, "Outlet"))]
        return JsonResponse({"data": pages})
    parts = rest.strip("/").split("/")
    if not token.startswith("sbx-") and not token.startswith("sandbox"):
        return _graph_error("Invalid OAuth access token (the sandbox accepts tokens starting with 'sandbox').")
    if len(parts) == 2 and parts[1] == "subscribed_apps":
        return JsonResponse({"success": True})
    if len(parts) == 2 and parts[1] == "phone_numbers":
        return JsonResponse({"data": [{"id": "100200300", "display_phone_number": "+62 811 0000 000"}]})
    if len(parts) == 1 and parts[0].isdigit():
        return JsonResponse({"id": parts[0], "display_phone_number": "+62 811 0000 000",
                             "verified_name": "Sandbox WhatsApp"})
    return _graph_error(f"The sandbox does not play {rest}", code=100)
