"""A fake HubSpot CRM v3 API on loopback: contacts (batch upsert/update/create, search), deals, meetings, notes,
owners, private-app token info and OAuth, with HubSpot's rate limits and the eventual consistency of search.

* ``Authorization: Bearer <token>`` must name a known token (401 ``INVALID_AUTHENTICATION`` otherwise).
* Request shapes are checked (400 ``VALIDATION_ERROR`` naming the problem): batch inputs at most 100, upsert
  keyed by a unique property (``email`` or one in ``unique_properties``), deals need a name and a stage, etc.
* Upsert resolves the unique property at once (HubSpot's unique index is consistent); **search** only sees a
  record ``search_delay`` seconds after it was written, or after ``search_delay_requests`` searches.
* Rate limits: ``burst_limit`` requests per ``burst_window`` seconds (all requests of a token) and
  ``search_per_second``; past them, 429 with ``policyName`` and ``X-HubSpot-RateLimit-*`` headers. Every
  violation is counted in ``rate_limited``.
* The base class's faults apply on top: ``fail_next(429, headers=...)``, ``fail_next(502)``, ``delay_next(2)``.

Documentation: https://developers.hubspot.com/docs/api/crm/contacts, /crm/search, /crm/deals, /crm/engagements,
/usage-details, /private-apps, /oauth-quickstart-guide.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from tests.fakes.server import FakeProvider, RecordedRequest, Reply

ASSOCIATION_TYPES = {("deals", 3), ("meetings", 200), ("notes", 202)}
_OBJECT = re.compile(r"^/crm/v3/objects/(contacts|deals|meetings|notes)(?:/([^/]+))?$")
_BATCH = re.compile(r"^/crm/v3/objects/contacts/batch/(upsert|update|create)$")


class Invalid(Exception):
    pass


def error_body(message: str, category: str = "VALIDATION_ERROR", **extra: Any) -> dict[str, Any]:
    return {"status": "error", "message": message, "category": category, "correlationId": "fake-0000", **extra}


@dataclass
class Record:
    id: str
    object_type: str
    properties: dict[str, str]
    written_at: float
    searches_seen: int = 0
    associations: list[tuple[str, str, int]] = field(default_factory=list)  # (to type, to id, type id)

    def as_json(self, wanted: list[str] | None = None) -> dict[str, Any]:
        properties = self.properties if wanted is None else {k: self.properties.get(k) for k in wanted}
        return {"id": self.id, "properties": {**properties, "hs_object_id": self.id}, "archived": False,
                "createdAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-01T00:00:00Z"}  # fmt: skip


class FakeHubSpot(FakeProvider):
    def __init__(
        self,
        tokens: tuple[str, ...] = ("hs-token",),
        *,
        hub_id: int = 424242,
        scopes: tuple[str, ...] = (
            "crm.objects.contacts.read", "crm.objects.contacts.write", "crm.objects.deals.read",
            "crm.objects.deals.write", "crm.objects.owners.read",
        ),
        unique_properties: tuple[str, ...] = (),
        search_delay: float = 0.0,
        search_delay_requests: int = 0,
        burst_limit: int | None = None,
        burst_window: float = 10.0,
        search_per_second: int | None = None,
    ) -> None:  # fmt: skip
        super().__init__()
        self.tokens = set(tokens)
        self.hub_id = hub_id
        self.scopes = list(scopes)
        self.unique_properties = {"email", *unique_properties}
        self.search_delay = search_delay
        self.search_delay_requests = search_delay_requests
        self.burst_limit = burst_limit
        self.burst_window = burst_window
        self.search_per_second = search_per_second
        self.records: dict[str, dict[str, Record]] = {t: {} for t in ("contacts", "deals", "meetings", "notes")}
        self.owners: dict[str, dict[str, Any]] = {}
        self.rate_limited = 0
        self.oauth_codes: dict[str, str] = {}  # code -> token it exchanges for
        # OAuth access tokens live ``token_ttl`` seconds (HubSpot: 30 minutes); private-app tokens never expire.
        self.token_ttl = 1800.0
        self.token_expiry: dict[str, float] = {}  # OAuth access token -> monotonic time it dies
        self.refresh_tokens: dict[str, int] = {}  # valid refresh token -> how many times it was used
        self.refresh_refused = False  # every refresh grant answers 400 BAD_REFRESH_TOKEN (a revoked install)
        self.refreshes = 0
        self.refresh_delay = 0.0  # seconds a refresh grant takes (keeps one in flight while a second caller comes)
        self._ids = itertools.count(1001)
        self._calls: deque[float] = deque()
        self._searches: deque[float] = deque()
        self._state = threading.Lock()

    # -- helpers for tests ------------------------------------------------------------------------------------
    def reset(self) -> None:
        super().reset()
        with self._state:
            self.records = {t: {} for t in self.records}
            self.owners.clear()
            self.rate_limited = 0
            self.token_ttl, self.refresh_refused, self.refreshes, self.refresh_delay = 1800.0, False, 0, 0.0
            self.token_expiry.clear()
            self.refresh_tokens.clear()
            self._calls.clear()
            self._searches.clear()

    @property
    def contacts(self) -> list[Record]:
        return list(self.records["contacts"].values())

    @property
    def deals(self) -> list[Record]:
        return list(self.records["deals"].values())

    def add_contact(self, properties: dict[str, str], *, searchable: bool = True) -> Record:
        """A contact that exists in HubSpot before Switchboard (searchable at once unless told otherwise)."""
        with self._state:
            record = self._create("contacts", properties)
            if searchable:
                record.written_at = 0.0
                record.searches_seen = 10**9
            return record

    def expire_tokens(self) -> None:
        """Every OAuth access token issued so far dies now (HubSpot then answers 401 EXPIRED_AUTHENTICATION)."""
        with self._state:
            now = time.monotonic()
            self.token_expiry = {token: now for token in self.token_expiry}

    def add_owner(self, owner_id: str, first: str, last: str, email: str) -> None:
        self.owners[owner_id] = {"id": owner_id, "firstName": first, "lastName": last, "email": email,
                                 "userId": int(owner_id), "archived": False}  # fmt: skip

    def set_property(self, object_type: str, object_id: str, name: str, value: str) -> None:
        self.records[object_type][object_id].properties[name] = value

    # -- serving ----------------------------------------------------------------------------------------------
    def handle(self, request: RecordedRequest) -> Reply:
        path = request.path
        if path == "/oauth/v2/private-apps/get/access-token-info" and request.method == "POST":
            token = (request.json() or {}).get("tokenKey")
            if token not in self.tokens:
                return Reply(401, error_body("The token is not valid", "INVALID_AUTHENTICATION"))
            return Reply(body={"userId": 7, "hubId": self.hub_id, "appId": 99, "scopes": self.scopes})
        if path == "/oauth/authorize":  # HubSpot's consent screen: the fake consents at once
            code = f"code-{next(self._ids)}"
            self.oauth_codes[code] = f"oauth-token-{code}"
            target = f"{request.query['redirect_uri']}?{urlencode({'code': code, 'state': request.query['state']})}"
            return Reply(302, b"", headers={"Location": target, "Content-Type": "text/plain"})
        if path == "/oauth/v1/token" and request.method == "POST":
            return self._token(dict(parse_qsl(request.body.decode())))
        if path.startswith("/oauth/v1/access-tokens/"):
            token = path.rsplit("/", 1)[1]
            if token not in self.tokens:
                return Reply(404, error_body("token not found", "OBJECT_NOT_FOUND"))
            return Reply(body={"token": token, "hub_id": self.hub_id, "scopes": self.scopes, "app_id": 99,
                               "user_id": 7, "token_type": "access", "expires_in": 1800})  # fmt: skip
        if request.headers.get("authorization", "") not in {f"Bearer {t}" for t in self.tokens}:
            return Reply(401, error_body("Authentication credentials not found.", "INVALID_AUTHENTICATION"))
        token = request.headers["authorization"].removeprefix("Bearer ")
        if self.token_expiry.get(token, float("inf")) <= time.monotonic():
            return Reply(401, error_body("The OAuth token used to make this call expired 0 second(s) ago.",
                                         "EXPIRED_AUTHENTICATION"))  # fmt: skip
        limited = self._rate_limit(search=path.endswith("/search"))
        if limited is not None:
            return limited
        try:
            return self._route(request)
        except (Invalid, ValueError, TypeError, KeyError, AttributeError) as exc:
            return Reply(400, error_body(f"Invalid input: {exc}"))

    def _token(self, form: dict[str, str]) -> Reply:
        """``POST /oauth/v1/token`` (form-encoded): ``authorization_code`` or ``refresh_token`` grants."""
        if not form.get("client_id") or not form.get("client_secret"):
            return Reply(400, {"status": "BAD_CLIENT_ID", "message": "client_id and client_secret are required"})
        if form.get("grant_type") == "refresh_token":
            time.sleep(self.refresh_delay)
            with self._state:
                refresh = form.get("refresh_token", "")
                if self.refresh_refused or refresh not in self.refresh_tokens:
                    return Reply(400, {"status": "BAD_REFRESH_TOKEN", "message": "missing or unknown refresh token"})
                self.refresh_tokens[refresh] += 1
                self.refreshes += 1
                return Reply(body=self._issue(f"oauth-token-r{self.refreshes}-{refresh[-6:]}", refresh))
        if form.get("grant_type") != "authorization_code" or form.get("code") not in self.oauth_codes:
            return Reply(400, {"status": "BAD_AUTH_CODE", "message": "missing or unknown auth code"})
        if not form.get("redirect_uri"):
            return Reply(400, {"status": "BAD_REDIRECT_URI", "message": "redirect_uri is required"})
        token = self.oauth_codes.pop(form["code"])
        with self._state:
            self.refresh_tokens.setdefault(f"refresh-{token}", 0)
            return Reply(body=self._issue(token, f"refresh-{token}"))

    def _issue(self, token: str, refresh: str) -> dict[str, Any]:
        """A short-lived access token (``token_ttl``); HubSpot keeps the refresh token the same across refreshes."""
        self.tokens.add(token)
        self.token_expiry[token] = time.monotonic() + self.token_ttl
        return {"access_token": token, "refresh_token": refresh, "expires_in": int(self.token_ttl),
                "token_type": "bearer"}  # fmt: skip

    def _rate_limit(self, *, search: bool) -> Reply | None:
        now = time.monotonic()
        with self._state:
            while self._calls and self._calls[0] <= now - self.burst_window:
                self._calls.popleft()
            while self._searches and self._searches[0] <= now - 1.0:
                self._searches.popleft()
            if search and self.search_per_second is not None and len(self._searches) >= self.search_per_second:
                self.rate_limited += 1
                return Reply(429, error_body("You have reached your secondly limit.", "RATE_LIMITS",
                                             policyName="SECONDLY"))  # fmt: skip
            if self.burst_limit is not None and len(self._calls) >= self.burst_limit:
                self.rate_limited += 1
                wait_ms = int((self._calls[0] + self.burst_window - now) * 1000) + 1
                return Reply(
                    429,
                    error_body("You have reached your ten_secondly_rolling limit.", "RATE_LIMITS",
                               policyName="TEN_SECONDLY_ROLLING"),
                    headers={"X-HubSpot-RateLimit-Max": str(self.burst_limit), "X-HubSpot-RateLimit-Remaining": "0",
                             "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(self.burst_window * 1000)),
                             "Retry-After": f"{wait_ms / 1000:.3f}"},
                )  # fmt: skip
            self._calls.append(now)
            if search:
                self._searches.append(now)
        return None

    def _route(self, request: RecordedRequest) -> Reply:
        path, method = request.path, request.method
        if path == "/crm/v3/objects/contacts/search" and method == "POST":
            return Reply(body=self._search(request.json()))
        batch = _BATCH.match(path)
        if batch and method == "POST":
            return self._batch(batch.group(1), request.json())
        if path.startswith("/crm/v3/owners/") and method == "GET":
            owner = self.owners.get(path.rsplit("/", 1)[1])
            return Reply(body=owner) if owner else Reply(404, error_body("owner not found", "OBJECT_NOT_FOUND"))
        match = _OBJECT.match(path)
        if not match:
            return Reply(404, error_body(f"no route for {method} {path}", "OBJECT_NOT_FOUND"))
        object_type, object_id = match.groups()
        with self._state:
            if method == "POST" and object_id is None:
                return Reply(201, self._create_object(object_type, request.json()))
            record = self.records[object_type].get(object_id or "")
            if record is None:
                return Reply(404, error_body(f"{object_type} {object_id} not found", "OBJECT_NOT_FOUND"))
            if method == "PATCH":
                body = request.json()
                if not isinstance(body, dict) or not isinstance(body.get("properties"), dict):
                    raise Invalid("properties must be an object")
                self._update(record, body["properties"])
                return Reply(body=record.as_json())
            if method == "GET":
                wanted = [p for p in request.query.get("properties", "").split(",") if p]
                return Reply(body=record.as_json(wanted or None))
        return Reply(405, error_body("method not allowed"))

    # -- objects ----------------------------------------------------------------------------------------------
    def _create(self, object_type: str, properties: dict[str, Any]) -> Record:
        record = Record(str(next(self._ids)), object_type, {k: str(v) for k, v in properties.items()}, time.monotonic())
        self.records[object_type][record.id] = record
        return record

    def _update(self, record: Record, properties: dict[str, Any]) -> None:
        if record.object_type == "contacts" and "lifecyclestage" in properties:
            _check_lifecycle(record.properties.get("lifecyclestage"), properties["lifecyclestage"])
        record.properties.update({k: str(v) for k, v in properties.items()})

    def _create_object(self, object_type: str, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("properties"), dict):
            raise Invalid("properties must be an object")
        properties = body["properties"]
        if object_type == "deals":
            for required in ("dealname", "dealstage", "pipeline"):
                if not properties.get(required):
                    raise Invalid(f"deal property {required} is required")
        if object_type in ("meetings", "notes") and not properties.get("hs_timestamp"):
            raise Invalid("hs_timestamp is required")
        associations = []
        for association in body.get("associations") or []:
            to_id = str(association["to"]["id"])
            kinds = association["types"]
            for kind in kinds:
                if kind["associationCategory"] != "HUBSPOT_DEFINED" or (object_type, kind["associationTypeId"]) not in (
                    ASSOCIATION_TYPES
                ):
                    raise Invalid(f"association type {kind} is not valid for {object_type} to contacts")
            if to_id not in self.records["contacts"]:
                raise Invalid(f"contact {to_id} does not exist")
            associations.append(("contacts", to_id, kinds[0]["associationTypeId"]))
        record = self._create(object_type, properties)
        record.associations = associations
        return record.as_json()

    def _find_by(self, prop: str, value: str) -> Record | None:
        value = value.lower() if prop == "email" else value
        for record in self.records["contacts"].values():
            current = record.properties.get(prop, "")
            if (current.lower() if prop == "email" else current) == value:
                return record
        return None

    def _batch(self, action: str, body: Any) -> Reply:
        inputs = body.get("inputs") if isinstance(body, dict) else None
        if not isinstance(inputs, list) or not inputs:
            raise Invalid("inputs must be a non-empty list")
        if len(inputs) > 100:
            raise Invalid("at most 100 inputs per batch")
        results, errors = [], []
        with self._state:
            for entry in inputs:
                if not isinstance(entry.get("properties"), dict):
                    raise Invalid("each input needs properties")
                trace = entry.get("objectWriteTraceId")
                properties = entry["properties"]
                if action == "upsert":
                    prop, value = entry.get("idProperty"), entry.get("id")
                    if prop not in self.unique_properties:
                        raise Invalid(f"{prop} is not a unique property")
                    if not value:
                        raise Invalid("id is required")
                    record, new = self._find_by(prop, str(value)), False
                    if record is None:
                        record, new = self._create("contacts", {**properties, prop: value}), True
                    else:
                        self._update(record, properties)
                elif action == "update":
                    record, new = self.records["contacts"].get(str(entry.get("id"))), False
                    if record is None:
                        errors.append(error_body(f"contact {entry.get('id')} not found", "OBJECT_NOT_FOUND",
                                                 context={"ids": [str(entry.get("id"))]}))  # fmt: skip
                        continue
                    self._update(record, properties)
                else:
                    email = properties.get("email")
                    if email and self._find_by("email", email):
                        return Reply(409, error_body(f"Contact already exists. Existing ID: "
                                                     f"{self._find_by('email', email).id}", "CONFLICT"))  # fmt: skip
                    record, new = self._create("contacts", properties), True
                result = {**record.as_json(), "new": new}
                if trace is not None:
                    result["objectWriteTraceId"] = trace
                results.append(result)
        body = {"status": "COMPLETE", "results": results, "startedAt": "x", "completedAt": "y"}
        if errors:
            body.update(errors=errors, numErrors=len(errors))
            return Reply(207, body)
        return Reply(200 if action != "create" else 201, body)

    def _search(self, body: Any) -> dict[str, Any]:
        groups = body.get("filterGroups")
        if not isinstance(groups, list) or len(groups) > 5:
            raise Invalid("filterGroups must be a list of at most 5 groups")
        wanted = body.get("properties") or ["email", "firstname", "lastname"]
        now = time.monotonic()
        matches = []
        with self._state:
            for record in self.records["contacts"].values():
                record.searches_seen += 1
                indexed = now - record.written_at >= self.search_delay and (
                    record.searches_seen > self.search_delay_requests
                )
                if indexed and any(_group_matches(record, g) for g in groups):
                    matches.append(record.as_json(wanted))
        return {"total": len(matches), "results": matches[: int(body.get("limit") or 10)]}


def _group_matches(record: Record, group: dict[str, Any]) -> bool:
    filters = group.get("filters")
    if not isinstance(filters, list) or not filters:
        raise Invalid("each filter group needs filters")
    for f in filters:
        value = record.properties.get(f["propertyName"], "")
        if f["propertyName"] == "email":
            value = value.lower()
        if f["operator"] == "EQ":
            ok = value == (str(f["value"]).lower() if f["propertyName"] == "email" else str(f["value"]))
        elif f["operator"] == "IN":
            values = f["values"]
            if not isinstance(values, list) or len(values) > 100:
                raise Invalid("IN takes a list of at most 100 values")
            ok = value in {str(v).lower() if f["propertyName"] == "email" else str(v) for v in values}
        else:
            raise Invalid(f"operator {f['operator']} is not supported by the fake")
        if not ok:
            return False
    return True


LIFECYCLE_ORDER = ["subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer",
                   "evangelist", "other"]  # fmt: skip


def _check_lifecycle(current: str | None, new: Any) -> None:
    """HubSpot moves a lifecycle stage forward only (clear it first to go back)."""
    if (
        current in LIFECYCLE_ORDER
        and new in LIFECYCLE_ORDER
        and LIFECYCLE_ORDER.index(new) < LIFECYCLE_ORDER.index(current)
    ):
        raise Invalid(f"lifecyclestage cannot move backwards from {current} to {new}")
