"""Fake OAuth providers on loopback: TikTok (business ``tt_user`` OAuth and TikTok for Business advertiser OAuth)
and Meta (Facebook Login for Pages, page subscriptions, WhatsApp number checks).

They behave like the real ones where Switchboard depends on it: authorization codes are single use and expire
(``code_ttl``), refresh tokens rotate (a spent one is refused), revoked tokens stop working, TikTok answers
HTTP 200 with ``{"code", "message", "data"}`` and Meta answers errors as ``{"error": {"message", "code"}}``.
The authorize pages are tiny HTML pages with **Allow** and **Deny** links, so a browser test can click
through them. ``refresh_delay`` slows refreshes down to widen a race window; ``refresh_calls`` counts them.
"""

from __future__ import annotations

import html
import itertools
import threading
import time
import uuid
from typing import Any
from urllib.parse import urlencode

from tests.fakes.server import FakeProvider, RecordedRequest, Reply

CLIENT_KEY, CLIENT_SECRET = "fake-client-key", "fake-client-secret"
ADS_APP_ID, ADS_SECRET = "fake-ads-app", "fake-ads-secret"
META_APP_ID, META_APP_SECRET = "fake-meta-app", "fake-meta-secret"


def envelope(data: Any = None, code: int = 0, message: str = "OK") -> dict[str, Any]:
    return {"code": code, "message": message, "request_id": uuid.uuid4().hex, "data": data or {}}


def _authorize_page(title: str, allow: str, deny: str) -> Reply:
    body = (
        f"<!doctype html><html lang=en><head><title>{html.escape(title)}</title></head><body><main>"
        f"<h1>{html.escape(title)}</h1><a href=\"{html.escape(allow)}\">Allow</a> "
        f"<a href=\"{html.escape(deny)}\">Deny</a></main></body></html>"
    )
    return Reply(200, body, headers={"Content-Type": "text/html; charset=utf-8"})


def _with(url: str, **params: str) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(params)


class FakeTikTokOAuth(FakeProvider):
    def __init__(self, *, code_ttl: float = 600.0, open_id: str = "biz-open-1", expires_in: int = 86400,
                 advertiser_ids: tuple[str, ...] = ("7001", "7002")) -> None:
        super().__init__()
        self.code_ttl = code_ttl
        self.open_id = open_id
        self.expires_in = expires_in
        self.advertiser_ids = list(advertiser_ids)
        self.profile = {"username": "batikhouse", "display_name": "Batik House", "profile_image": ""}
        self.refresh_delay = 0.0
        self.refresh_calls = 0
        self.codes: dict[str, dict[str, Any]] = {}
        self.access_tokens: dict[str, str] = {}  # token -> open_id
        self.refresh_tokens: dict[str, str] = {}
        self.ads_tokens: set[str] = set()
        self.revoked: list[str] = []
        self.webhook_callbacks: list[dict[str, Any]] = []
        self._counter = itertools.count(1)
        self._state_lock = threading.Lock()

    def issue_code(self, *, redirect_uri: str, kind: str = "tiktok", age: float = 0.0) -> str:
        code = f"{kind}-code-{next(self._counter)}"
        self.codes[code] = {"redirect_uri": redirect_uri, "kind": kind, "issued": time.time() - age, "used": False}
        return code

    def _take_code(self, code: str, kind: str, redirect_uri: str | None) -> str | None:
        """None when the code is good; else the refusal message."""
        with self._state_lock:
            grant = self.codes.get(code)
            if grant is None or grant["kind"] != kind:
                return "auth_code is invalid"
            if grant["used"]:
                return "auth_code has been used"
            if time.time() - grant["issued"] > self.code_ttl:
                return "auth_code is expired"
            if redirect_uri is not None and redirect_uri != grant["redirect_uri"]:
                return "redirect_uri does not match"
            grant["used"] = True
        return None

    def _tokens(self, open_id: str) -> dict[str, Any]:
        n = next(self._counter)
        access, refresh = f"tt-access-{n}", f"tt-refresh-{n}"
        self.access_tokens[access] = open_id
        self.refresh_tokens[refresh] = open_id
        return {"open_id": open_id, "access_token": access, "expires_in": self.expires_in, "refresh_token": refresh,
                "refresh_token_expires_in": 31536000, "scope": "user.info.basic,message.list.read,message.list.send,"
                "message.list.manage", "token_type": "Bearer"}

    def handle(self, request: RecordedRequest) -> Reply:  # noqa: C901 - one small router, like a provider
        path, query = request.path, request.query
        if path == "/v2/auth/authorize":
            code = self.issue_code(redirect_uri=query.get("redirect_uri", ""))
            return _authorize_page(
                "Fake TikTok: allow Switchboard?",
                _with(query.get("redirect_uri", ""), code=code, state=query.get("state", "")),
                _with(query.get("redirect_uri", ""), error="access_denied", error_description="User denied",
                      state=query.get("state", "")),
            )
        if path == "/portal/auth":
            code = self.issue_code(redirect_uri=query.get("redirect_uri", ""), kind="ads")
            return _authorize_page(
                "Fake TikTok for Business: allow Switchboard?",
                _with(query.get("redirect_uri", ""), auth_code=code, code=code, state=query.get("state", "")),
                _with(query.get("redirect_uri", ""), error="access_denied", state=query.get("state", "")),
            )
        body = request.json() if request.body else {}
        if path == "/open_api/v1.3/tt_user/oauth2/token/":
            if (body.get("client_id"), body.get("client_secret")) != (CLIENT_KEY, CLIENT_SECRET):
                return Reply(200, envelope(code=40001, message="client credentials are wrong"))
            refusal = self._take_code(body.get("auth_code", ""), "tiktok", body.get("redirect_uri"))
            if refusal:
                return Reply(200, envelope(code=40001, message=refusal))
            return Reply(200, envelope(self._tokens(self.open_id)))
        if path == "/open_api/v1.3/tt_user/oauth2/refresh_token/":
            with self._state_lock:
                self.refresh_calls += 1
            time.sleep(self.refresh_delay)
            with self._state_lock:
                open_id = self.refresh_tokens.pop(body.get("refresh_token", ""), None)  # rotation: used once
            if open_id is None:
                return Reply(200, envelope(code=40001, message="refresh_token is invalid or expired"))
            return Reply(200, envelope(self._tokens(open_id)))
        if path == "/open_api/v1.3/tt_user/oauth2/revoke/":
            self.access_tokens.pop(body.get("access_token", ""), None)
            self.revoked.append(body.get("access_token", ""))
            return Reply(200, envelope())
        if path == "/open_api/v1.3/business/get/":
            if request.headers.get("access-token") not in self.access_tokens:
                return Reply(200, envelope(code=40105, message="Access token is incorrect or has been revoked."))
            return Reply(200, envelope(dict(self.profile)))
        if path == "/open_api/v1.3/business/webhook/update/":
            if (body.get("app_id"), body.get("secret")) != (CLIENT_KEY, CLIENT_SECRET):
                return Reply(200, envelope(code=40001, message="app credentials are wrong"))
            self.webhook_callbacks.append(body)
            return Reply(200, envelope({"app_id": body["app_id"], "event_type": body.get("event_type"),
                                        "callback_url": body.get("callback_url")}))
        if path == "/open_api/v1.3/oauth2/access_token/":
            if (body.get("app_id"), body.get("secret")) != (ADS_APP_ID, ADS_SECRET):
                return Reply(200, envelope(code=40001, message="app credentials are wrong"))
            refusal = self._take_code(body.get("auth_code", ""), "ads", None)
            if refusal:
                return Reply(200, envelope(code=40001, message=refusal))
            token = f"ads-token-{next(self._counter)}"
            self.ads_tokens.add(token)
            return Reply(200, envelope({"access_token": token, "advertiser_ids": self.advertiser_ids,
                                        "scope": [4, 5, 6]}))
        if path == "/open_api/v1.3/oauth2/revoke_token/":
            self.ads_tokens.discard(body.get("access_token", ""))
            self.revoked.append(body.get("access_token", ""))
            return Reply(200, envelope())
        return Reply(404, {"error": f"fake TikTok has no {path}"})


class FakeMetaOAuth(FakeProvider):
    """Facebook Login (dialog, code exchange), ``/me/accounts``, page subscriptions and WhatsApp number checks."""

    def __init__(self, *, version: str = "v21.0") -> None:
        super().__init__()
        self.version = version
        self.codes: dict[str, dict[str, Any]] = {}
        self.pages = [{"id": "5551", "name": "Batik House", "access_token": "page-token-5551"},
                      {"id": "5552", "name": "Batik Outlet", "access_token": "page-token-5552"}]
        self.user_tokens: set[str] = set()
        self.long_lived: set[str] = set()
        self.subscribed: dict[str, bool] = {}
        self.whatsapp_tokens = {"wa-system-token"}
        self.numbers = {"1060001": {"waba": "2080001", "display_phone_number": "+62 811 555 0101",
                                    "verified_name": "Batik House"}}
        self._counter = itertools.count(1)

    def _error(self, message: str, code: int = 190, status: int = 400) -> Reply:
        return Reply(status, {"error": {"message": message, "type": "OAuthException", "code": code}})

    def handle(self, request: RecordedRequest) -> Reply:  # noqa: C901
        prefix = f"/{self.version}/"
        if not request.path.startswith(prefix):
            return Reply(404, {"error": "unknown version"})
        rest = request.path[len(prefix):]
        query = request.query
        token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if rest == "dialog/oauth":
            code = f"meta-code-{next(self._counter)}"
            self.codes[code] = {"redirect_uri": query.get("redirect_uri", ""), "used": False}
            return _authorize_page(
                "Fake Facebook: allow Switchboard?",
                _with(query.get("redirect_uri", ""), code=code, state=query.get("state", "")),
                _with(query.get("redirect_uri", ""), error="access_denied", error_reason="user_denied",
                      error_description="Permissions error", state=query.get("state", "")),
            )
        if rest == "oauth/access_token":
            grant = self.codes.get(query.get("code", ""))
            if (query.get("client_id"), query.get("client_secret")) != (META_APP_ID, META_APP_SECRET):
                return self._error("Invalid client_id or client_secret", code=101)
            if query.get("grant_type") == "fb_exchange_token":
                if query.get("fb_exchange_token") not in self.user_tokens:
                    return self._error("Invalid OAuth access token.")
                long_lived = f"long-user-token-{next(self._counter)}"
                self.user_tokens.add(long_lived)
                self.long_lived.add(long_lived)
                return Reply(200, {"access_token": long_lived, "token_type": "bearer", "expires_in": 5183944})
            if grant is None or grant["used"] or grant["redirect_uri"] != query.get("redirect_uri"):
                return self._error("This authorization code has been used or has expired.", code=100)
            grant["used"] = True
            user_token = f"user-token-{next(self._counter)}"
            self.user_tokens.add(user_token)
            return Reply(200, {"access_token": user_token, "token_type": "bearer", "expires_in": 5183944})
        if rest == "me/accounts":
            if token not in self.user_tokens:
                return self._error("Invalid OAuth access token.")
            # Page tokens read with a long-lived user token do not expire; others would (marked for tests).
            suffix = "" if token in self.long_lived else "-short-lived"
            return Reply(200, {"data": [dict(p, access_token=p["access_token"] + suffix, tasks=["MESSAGING"])
                                        for p in self.pages]})
        parts = rest.split("/")
        if len(parts) == 2 and parts[1] == "subscribed_apps":
            page = next((p for p in self.pages if p["id"] == parts[0]), None)
            if page is not None:
                if token != page["access_token"]:
                    return self._error("Invalid page access token.")
                self.subscribed[parts[0]] = request.method != "DELETE"
                return Reply(200, {"success": True})
            if token in self.whatsapp_tokens:  # WABA subscription
                self.subscribed[parts[0]] = request.method != "DELETE"
                return Reply(200, {"success": True})
            return self._error("Invalid OAuth access token.")
        if len(parts) == 2 and parts[1] == "phone_numbers":
            if token not in self.whatsapp_tokens:
                return self._error("Invalid OAuth access token.")
            ids = [{"id": pid, "display_phone_number": n["display_phone_number"]}
                   for pid, n in self.numbers.items() if n["waba"] == parts[0]]
            return Reply(200, {"data": ids})
        if len(parts) == 1:
            if token not in self.whatsapp_tokens:
                return self._error("Invalid OAuth access token.")
            number = self.numbers.get(parts[0])
            if number is None:
                return self._error(f"Unsupported get request. Object with ID '{parts[0]}' does not exist", code=100)
            return Reply(200, {"id": parts[0], "display_phone_number": number["display_phone_number"],
                               "verified_name": number["verified_name"]})
        return self._error(f"fake Graph has no {rest}", code=100, status=404)


class WebhookReceiver(FakeProvider):
    """A subscriber's endpoint: answers ``fail_first`` requests with 500, then 200; keeps what it received."""

    def __init__(self, *, fail_first: int = 0) -> None:
        super().__init__()
        self.fail_first = fail_first

    def handle(self, request: RecordedRequest) -> Reply:
        with self._lock:
            seen = len(self.requests)
        if seen <= self.fail_first:
            return Reply(500, {"error": "not yet"})
        return Reply(200, {"ok": True})
