"""Driving Switchboard's own OAuth server like a third-party app would: PKCE, consent page, token exchange."""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from django.test import Client
from oauth2_provider.models import Application

REDIRECT_URI = "https://orders.example/callback"
CLIENT_SECRET = "orders-sync-secret-0123456789"


def make_application(name: str = "Orders Sync") -> Application:
    return Application.objects.create(
        name=name, client_id=f"client-{secrets.token_hex(4)}", client_secret=CLIENT_SECRET,
        client_type=Application.CLIENT_CONFIDENTIAL, authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=REDIRECT_URI, algorithm="",
    )


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_url(app: Application, scopes: str, challenge: str | None, state: str = "st-1") -> str:
    query = {"response_type": "code", "client_id": app.client_id, "redirect_uri": REDIRECT_URI, "scope": scopes,
             "state": state}
    if challenge:
        query.update(code_challenge=challenge, code_challenge_method="S256")
    return "/oauth/authorize/?" + urlencode(query)


def hidden_fields(page: str) -> dict[str, str]:
    fields = {}
    for tag in re.findall(r"<input[^>]+type=\"hidden\"[^>]*>", page):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and name.group(1) != "csrfmiddlewaretoken":
            fields[name.group(1)] = html.unescape(value.group(1)) if value else ""
    return fields


def consent(client: Client, app: Application, scopes: str, organization_id: int | None, *, allow: bool = True):  # noqa: ANN201
    verifier, challenge = pkce()
    page = client.get(authorize_url(app, scopes, challenge))
    assert page.status_code == 200, page.content
    data = hidden_fields(page.content.decode())
    if allow:
        data["allow"] = "Authorize"
    if organization_id is not None:
        data["organization"] = str(organization_id)
    return client.post("/oauth/authorize/", data), verifier


def code_from(response: Any) -> str:
    assert response.status_code == 302, response.content
    return parse_qs(urlsplit(response["Location"]).query)["code"][0]


def exchange(client: Client, app: Application, code: str, verifier: str) -> Any:
    return client.post("/oauth/token/", {
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, "client_id": app.client_id,
        "client_secret": CLIENT_SECRET, "code_verifier": verifier,
    })


def obtain_tokens(client: Client, app: Application, scopes: str, organization_id: int) -> dict[str, Any]:
    response, verifier = consent(client, app, scopes, organization_id)
    answer = exchange(Client(), app, code_from(response), verifier)
    assert answer.status_code == 200, answer.content
    return answer.json()


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}
