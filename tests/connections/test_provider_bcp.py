"""Switchboard's OAuth provider against the OAuth 2.0 Security Best Current Practice (RFC 9700).

PKCE with S256 only; authorization codes that live a minute and work once; redirect URIs compared as exact
strings (a loopback callback may change only its port); the authorization-code and refresh grants only, whatever
an Application row says; refresh tokens rotated, and a replayed spent one revokes the whole family; access tokens
never accepted in a query string.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application, Grant, RefreshToken

from tests.connections.provider_helpers import (
    CLIENT_SECRET,
    REDIRECT_URI,
    bearer,
    code_from,
    consent,
    exchange,
    hidden_fields,
    make_application,
    obtain_tokens,
    pkce,
)

pytestmark = [pytest.mark.core, pytest.mark.django_db]

SCOPES = "conversations:read"


@pytest.fixture
def app() -> Application:
    return make_application()


def _authorize(client: Client, app: Application, **overrides: str):  # noqa: ANN202
    _, challenge = pkce()
    query = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": SCOPES,
        "state": "st-1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    query.update(overrides)
    return client.get("/oauth/authorize/?" + urlencode({k: v for k, v in query.items() if v is not None}))


def _refresh(app: Application, refresh_token: str):  # noqa: ANN202
    return Client().post(
        "/oauth/token/",
        {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": app.client_id,
            "client_secret": CLIENT_SECRET,
        },
    )


def _refused_without_consent(response, redirect_uri: str = REDIRECT_URI) -> None:  # noqa: ANN001
    """Refused: either an error page, or an ``error=`` redirect to the registered callback; never a consent page
    and never a code."""
    if response.status_code == 302:
        location = response["Location"]
        assert location.startswith(redirect_uri + "?"), location
        query = parse_qs(urlsplit(location).query)
        assert "error" in query and "code" not in query, location
    else:
        assert response.status_code == 400, response.status_code
        assert 'name="allow"' not in response.content.decode()


# --- PKCE: S256 only ---------------------------------------------------------------------------------------------


def test_s256_opens_the_consent_page(owner_client, app):
    response = _authorize(owner_client, app)
    assert response.status_code == 200 and hidden_fields(response.content.decode())["code_challenge_method"] == "S256"


@pytest.mark.parametrize("method", ["plain", None, "S512", "s256"])
def test_a_challenge_not_sent_as_s256_is_refused_before_consent(owner_client, app, method):
    # A challenge without a method would be "plain" (RFC 7636 section 4.3): refused like plain.
    response = _authorize(owner_client, app, code_challenge="x" * 43, code_challenge_method=method)
    _refused_without_consent(response)
    assert not Grant.objects.exists()


def test_a_plain_challenge_smuggled_into_the_consent_post_makes_no_code(owner_client, owner, app):
    page = _authorize(owner_client, app)
    data = hidden_fields(page.content.decode()) | {"allow": "Authorize", "organization": str(owner.organization_id)}
    data.update(code_challenge="y" * 43, code_challenge_method="plain")
    response = owner_client.post("/oauth/authorize/", data)
    assert "code=" not in response.get("Location", "")
    assert not Grant.objects.exists()


def test_a_code_needs_the_verifier_of_its_own_challenge(owner_client, owner, app):
    response, verifier = consent(owner_client, app, SCOPES, owner.organization_id)
    code = code_from(response)
    assert exchange(Client(), app, code, pkce()[0]).status_code == 400
    no_verifier = Client().post(
        "/oauth/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": app.client_id,
            "client_secret": CLIENT_SECRET,
        },
    )
    assert no_verifier.status_code == 400


# --- authorization codes: short-lived, single use -------------------------------------------------------------------


def test_codes_live_a_minute_at_most(owner_client, owner, app):
    assert settings.OAUTH2_PROVIDER["AUTHORIZATION_CODE_EXPIRE_SECONDS"] <= 60
    before = timezone.now()
    code_from(consent(owner_client, app, SCOPES, owner.organization_id)[0])
    grant = Grant.objects.get()
    assert grant.expires - before <= timedelta(seconds=61)


def test_an_expired_code_is_refused(owner_client, owner, app):
    response, verifier = consent(owner_client, app, SCOPES, owner.organization_id)
    code = code_from(response)
    Grant.objects.update(expires=timezone.now() - timedelta(seconds=1))  # the minute has passed
    answer = exchange(Client(), app, code, verifier)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"
    assert not AccessToken.objects.exists()


def test_a_code_works_once(owner_client, owner, app):
    response, verifier = consent(owner_client, app, SCOPES, owner.organization_id)
    code = code_from(response)
    first = exchange(Client(), app, code, verifier)
    assert first.status_code == 200
    again = exchange(Client(), app, code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert AccessToken.objects.count() == 1


def test_a_code_is_bound_to_its_client(owner_client, owner, app):
    response, verifier = consent(owner_client, app, SCOPES, owner.organization_id)
    thief = make_application("Thief")
    assert exchange(Client(), thief, code_from(response), verifier).status_code == 400
    assert not AccessToken.objects.exists()


# --- redirect URIs: exact ---------------------------------------------------------------------------------------------

NOT_THE_REGISTERED_URI = [
    "https://orders.example/callback/",  # trailing slash
    "https://orders.example/callback/../evil",
    "https://orders.example/callbackx",
    "https://orders.example/callback?next=https://evil.example",  # extra query
    "https://orders.example/callback?",  # an empty query is a different string
    "https://orders.example:443/callback",  # same origin, different string
    "https://orders.example:8443/callback",
    "http://orders.example/callback",
    "https://evil.orders.example/callback",
    "https://orders.example.evil.example/callback",
    "https://user@orders.example/callback",
    "https://orders.example/callback#frag",
    "https://ORDERS.example/callback",
    "https://orders.example/Callback",
    "https://orders.example/callback;x=1",
]


@pytest.mark.parametrize("redirect_uri", NOT_THE_REGISTERED_URI)
def test_only_the_registered_redirect_uri_is_accepted(owner_client, app, redirect_uri):
    response = _authorize(owner_client, app, redirect_uri=redirect_uri)
    # A redirect URI that is not registered must never be redirected to (not even with an error).
    assert response.status_code == 400, (redirect_uri, response.status_code, response.get("Location"))
    assert 'name="allow"' not in response.content.decode()


def test_a_loopback_callback_may_change_only_its_port(owner_client):
    native = make_application("Desktop app")
    native.redirect_uris = "http://127.0.0.1/cb"
    native.save()
    assert _authorize(owner_client, native, redirect_uri="http://127.0.0.1:53123/cb").status_code == 200
    for other in ("http://127.0.0.1:53123/cb2", "http://localhost:53123/cb", "http://127.0.0.1:53123/cb?x=1"):
        assert _authorize(owner_client, native, redirect_uri=other).status_code == 400, other


def test_the_token_request_must_repeat_the_exact_redirect_uri(owner_client, owner, app):
    response, verifier = consent(owner_client, app, SCOPES, owner.organization_id)
    answer = Client().post(
        "/oauth/token/",
        {
            "grant_type": "authorization_code",
            "code": code_from(response),
            "client_id": app.client_id,
            "client_secret": CLIENT_SECRET,
            "code_verifier": verifier,
            "redirect_uri": REDIRECT_URI + "/",
        },
    )
    assert answer.status_code == 400
    assert not AccessToken.objects.exists()


# --- grants: authorization code and refresh only --------------------------------------------------------------------


def _app_with_grant(grant_type: str) -> Application:
    app = make_application(f"Legacy {grant_type}")
    app.authorization_grant_type = grant_type
    app.save()
    return app


def test_the_implicit_grant_is_refused_even_for_an_implicit_application(owner_client, owner):
    legacy = _app_with_grant(Application.GRANT_IMPLICIT)
    for response_type in ("token", "id_token", "id_token token", "code token"):
        response = _authorize(owner_client, legacy, response_type=response_type)
        assert "access_token" not in response.get("Location", ""), response_type
        assert 'name="allow"' not in response.content.decode(), response_type
    assert not AccessToken.objects.exists()


def test_the_password_grant_is_refused_even_for_a_password_application(owner):
    legacy = _app_with_grant(Application.GRANT_PASSWORD)
    owner.user.set_password("right-password-1")
    owner.user.save()
    answer = Client().post(
        "/oauth/token/",
        {
            "grant_type": "password",
            "username": owner.user.username,
            "password": "right-password-1",
            "client_id": legacy.client_id,
            "client_secret": CLIENT_SECRET,
            "scope": SCOPES,
        },
    )
    assert answer.status_code in (400, 401) and answer.json()["error"] in ("unauthorized_client", "invalid_grant")
    assert not AccessToken.objects.exists()


def test_client_credentials_are_refused_for_third_party_apps():
    legacy = _app_with_grant(Application.GRANT_CLIENT_CREDENTIALS)
    answer = Client().post(
        "/oauth/token/",
        {"grant_type": "client_credentials", "client_id": legacy.client_id, "client_secret": CLIENT_SECRET},
    )
    assert answer.status_code in (400, 401)
    assert not AccessToken.objects.exists()


# --- refresh tokens: rotation with reuse detection ------------------------------------------------------------------


def test_refresh_rotates_and_a_replayed_spent_token_revokes_the_whole_family(owner_client, owner, app):
    assert (
        settings.OAUTH2_PROVIDER["ROTATE_REFRESH_TOKEN"] and settings.OAUTH2_PROVIDER["REFRESH_TOKEN_REUSE_PROTECTION"]
    )
    first = obtain_tokens(owner_client, app, SCOPES, owner.organization_id)
    rotated = _refresh(app, first["refresh_token"])
    assert rotated.status_code == 200
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"] and second["access_token"] != first["access_token"]
    assert Client().get("/api/v1/conversations/", **bearer(second["access_token"])).status_code == 200
    assert Client().get("/api/v1/conversations/", **bearer(first["access_token"])).status_code == 401

    # An attacker (or a confused client) replays the spent refresh token: refused, and everything of that
    # family dies, so the legitimate holder of the newest token must authorize again.
    replay = _refresh(app, first["refresh_token"])
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert _refresh(app, second["refresh_token"]).status_code == 400
    assert Client().get("/api/v1/conversations/", **bearer(second["access_token"])).status_code == 401
    assert not RefreshToken.objects.filter(revoked__isnull=True).exists()


def test_another_authorization_keeps_its_tokens_when_one_family_is_revoked(owner_client, owner, app):
    stolen = obtain_tokens(owner_client, app, SCOPES, owner.organization_id)
    other = obtain_tokens(owner_client, app, SCOPES, owner.organization_id)
    assert _refresh(app, stolen["refresh_token"]).status_code == 200
    assert _refresh(app, stolen["refresh_token"]).status_code == 400  # reuse: that family dies
    assert _refresh(app, other["refresh_token"]).status_code == 200


# --- access tokens: header only ---------------------------------------------------------------------------------------


def test_an_access_token_in_the_query_string_is_refused(owner_client, owner, app):
    tokens = obtain_tokens(owner_client, app, SCOPES, owner.organization_id)
    assert Client().get("/api/v1/conversations/", **bearer(tokens["access_token"])).status_code == 200
    in_url = Client().get("/api/v1/conversations/", {"access_token": tokens["access_token"]})
    assert in_url.status_code == 401
    both = Client().get("/api/v1/conversations/", {"access_token": tokens["access_token"]}, **bearer("x"))
    assert both.status_code == 401


def test_the_deploy_check_treats_a_weakened_configuration_as_an_error(settings):  # noqa: ANN001
    from django.core import checks
    from oauth2_provider.settings import oauth2_settings

    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "REFRESH_TOKEN_REUSE_PROTECTION": False}
    try:
        found = checks.run_checks(include_deployment_checks=True, tags=[checks.Tags.security])
        ids = {message.id for message in found if message.id.startswith("oauth2_provider.")}
        assert "oauth2_provider.E002" in ids
    finally:
        oauth2_settings.reload()
