"""CSRF on every POST: each URL the resolver knows, posted by a logged-in owner without a token, answers 403.

Only endpoints that authenticate each request some other way are exempt, each listed with the reason. A new
endpoint is covered the day it is added: the list comes from the URL resolver, not from this file.
"""

from __future__ import annotations

import re
import uuid

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from inbox.models import Role
from tests.factories import MembershipFactory

pytestmark = [pytest.mark.django_db, pytest.mark.core]

EXEMPT = {
    "webhooks/<slug:provider>/": "provider webhooks: HMAC signature on the raw body",
    "webhooks/<slug:provider>/<int:channel_id>/": "provider webhooks: HMAC signature on the raw body",
    "commerce/payments/<slug:provider>/callback": "payment provider callback: signed body",
    "oauth/token/": "OAuth token endpoint: client authentication, no cookies",
    "oauth/revoke_token/": "OAuth: client authentication, no cookies",
    "oauth/introspect/": "OAuth: client authentication, no cookies",
    "signals/sandbox-events/open_api/v1.3/event/track/": "the sandbox's stand-in TikTok Events API (token header)",
}
REGEX_EXEMPT = ("^connections/sandbox-oauth/",)  # the sandbox's stand-in TikTok/Meta APIs (token header)
ARGUMENT = {"int": "1", "slug": "x", "str": "x", "path": "x", "uuid": str(uuid.uuid4())}


def _routes(patterns, prefix: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


def _concrete(route: str) -> str | None:
    """A path for ``route`` with placeholder arguments, or None for a regex route."""
    if "^" in route or "(?P" in route or "\\" in route:
        return None
    return "/" + re.sub(r"<(?:(\w+):)?\w+>", lambda m: ARGUMENT[m.group(1) or "str"], route)


def test_every_non_exempt_post_endpoint_enforces_csrf():
    owner = MembershipFactory(role=Role.OWNER, user__password=None).user
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    routes = sorted(set(_routes(get_resolver().url_patterns)))
    checked, unprotected = 0, []
    for route in routes:
        if route in EXEMPT or route.startswith(REGEX_EXEMPT):
            continue
        path = _concrete(route)
        if path is None:
            # Regex routes: only Django admin's app index uses them; admin forms are csrf_protect'ed anyway.
            assert route.startswith("admin/"), f"regex route not covered: {route}"
            continue
        response = client.post(path, {"x": "1"})
        checked += 1
        # Swagger UI's HTML renderer shows DRF's "CSRF Failed" 403 as a bare "403 Forbidden".
        if response.status_code != 403 or (b"CSRF" not in response.content and route != "api/docs/"):
            unprotected.append((route, response.status_code))
    assert not unprotected, f"POST without a CSRF token was not refused: {unprotected}"
    assert checked > 50  # the walk really found the site


def test_exempt_endpoints_really_are_exempt_and_still_refuse_unsigned_posts():
    """The exemptions are real (no stale entries) and each still refuses an unauthenticated POST."""
    client = Client(enforce_csrf_checks=True)
    routes = set(_routes(get_resolver().url_patterns))
    assert set(EXEMPT) <= routes
    for route in EXEMPT:
        response = client.post(_concrete(route), data=b"{}", content_type="application/json")
        if route.startswith("signals/sandbox-events/"):  # answers like TikTok: HTTP 200, the error in "code"
            assert response.json()["code"] != 0
        else:
            assert response.status_code in (400, 401, 403, 404), (route, response.status_code)
        assert b"CSRF" not in response.content, route
