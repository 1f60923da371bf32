"""The built-in sandbox authorization server of the offline demo (``SANDBOX_OAUTH``)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

pytestmark = [pytest.mark.core, pytest.mark.django_db]

AUTHORIZE = "/connections/sandbox-oauth/tiktok/v2/auth/authorize"
TOKEN = "/connections/sandbox-oauth/tiktok/open_api/v1.3/tt_user/oauth2/token/"
CALLBACK = "http://testserver/connections/tiktok/callback/"


@pytest.fixture(autouse=True)
def sandbox_on(settings):  # noqa: ANN001
    settings.SANDBOX_OAUTH = True


def decide(client, decision: str) -> dict[str, str]:  # noqa: ANN001
    page = client.get(AUTHORIZE, {"redirect_uri": CALLBACK, "state": "s1", "client_key": "k"})
    assert page.status_code == 200 and "Allow" in page.content.decode() and "Deny" in page.content.decode()
    response = client.post(AUTHORIZE, {"redirect_uri": CALLBACK, "state": "s1", "decision": decision,
                                       "account_name": "Demo Shop"})
    assert response.status_code == 302 and response["Location"].startswith(CALLBACK)
    return {k: v[0] for k, v in parse_qs(urlsplit(response["Location"]).query).items()}


def test_allow_issues_a_single_use_code_and_tokens_that_read_the_profile(owner_client):
    answer = decide(owner_client, "allow")
    assert answer["state"] == "s1"
    body = {"auth_code": answer["code"], "redirect_uri": CALLBACK, "client_id": "x", "client_secret": "y",
            "grant_type": "authorization_code"}
    first = owner_client.post(TOKEN, body, content_type="application/json").json()
    assert first["code"] == 0 and first["data"]["access_token"].startswith("sbx-at-")
    again = owner_client.post(TOKEN, body, content_type="application/json").json()
    assert again["code"] != 0  # codes are single use
    profile = owner_client.get("/connections/sandbox-oauth/tiktok/open_api/v1.3/business/get/",
                               HTTP_ACCESS_TOKEN=first["data"]["access_token"]).json()
    assert profile["data"]["display_name"] == "Demo Shop"


def test_deny_answers_access_denied(owner_client):
    assert decide(owner_client, "deny")["error"] == "access_denied"


def test_the_sandbox_is_off_unless_configured(owner_client, settings):
    settings.SANDBOX_OAUTH = False
    assert owner_client.get(AUTHORIZE, {"redirect_uri": CALLBACK}).status_code == 404
