"""Browser security: Content-Security-Policy everywhere, HSTS and secure cookies in production, HttpOnly session."""

from __future__ import annotations

import base64
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from tests.factories import MembershipFactory

pytestmark = [pytest.mark.django_db, pytest.mark.core]

ROOT = Path(__file__).resolve().parents[2]
# Templates that still carry an inline <script> (listed, not broken: they get no CSP until moved to a file).
INLINE_SCRIPT_TEMPLATES: set[str] = set()


def _policy(response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part for part in (p.strip() for p in header.split(";")) if part}


def test_every_page_gets_a_strict_content_security_policy(client):
    member = MembershipFactory(user__password=None)
    for path, logged_in in (("/login/", False), ("/inbox/", True), ("/api/v1/conversations/", True)):
        if logged_in:
            client.force_login(member.user)
        response = client.get(path, follow=True)
        assert response.status_code == 200, path
        policy = _policy(response)
        assert policy["script-src"] == "script-src 'self'", path
        assert policy["style-src"] == "style-src 'self'", path
        assert "'unsafe-inline'" not in policy["default-src"] + policy["script-src"]
        assert policy["connect-src"] == "connect-src 'self' ws://testserver wss://testserver"
        assert policy["frame-ancestors"] == "frame-ancestors 'none'"
        assert policy["object-src"] == "object-src 'none'"


def test_templates_load_scripts_from_files_except_the_listed_ones():
    """An inline <script> would be blocked by the policy: pages use static/<name>.js (json_script data is fine)."""
    found = set()
    for template in (ROOT / "templates").rglob("*.html"):
        for tag in re.findall(r"<script\b[^>]*>", template.read_text()):
            if "src=" not in tag and "application/json" not in tag:
                found.add(str(template.relative_to(ROOT / "templates")))
        text = template.read_text()
        assert not re.search(r"\son[a-z]+\s*=\s*[\"']", text), f"inline event handler in {template}"
        assert "<style" not in text, f"inline <style> in {template}"
    assert found == INLINE_SCRIPT_TEMPLATES


def test_the_api_docs_page_gets_the_policy_and_loads_its_script_from_a_url(client):
    client.force_login(MembershipFactory(user__password=None).user)
    response = client.get("/api/docs/")

    assert _policy(response)["script-src"] == "script-src 'self'"
    assert _policy(response)["style-src"] == "style-src 'self' 'unsafe-inline'"  # Swagger UI's run-time <style>
    html = response.content.decode()
    assert re.search(r"<script src=\"[^\"]*\?script=", html), "Swagger UI's own script must be a separate URL"
    assert not [tag for tag in re.findall(r"<script\b[^>]*>", html) if "src=" not in tag]


def test_session_cookie_is_httponly_and_samesite(client):
    member = MembershipFactory()  # password "correct-horse-battery"
    response = client.post("/login/", {"username": member.user.username, "password": "correct-horse-battery"})
    assert response.status_code == 302
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def _production_env() -> dict[str, str]:
    # Nothing of the test process's own environment that production would not have (the browser tests set
    # DJANGO_ALLOW_ASYNC_UNSAFE for Playwright; the suite hashes passwords with MD5).
    test_only = ("DEBUG", "SECURE_COOKIES", "DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE",
                 "FAST_PASSWORD_HASHING")
    env = {k: v for k, v in os.environ.items() if k not in test_only}
    env.update(
        SWITCHBOARD_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(50),
        FIELD_ENCRYPTION_KEY=base64.urlsafe_b64encode(os.urandom(32)).decode(),
        ALLOWED_HOSTS="switchboard.example",
    )
    return env


def test_production_settings_turn_on_hsts_and_secure_cookies():
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, "
        "s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_PROXY_SSL_HEADER is not None)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={**_production_env(), "DJANGO_SETTINGS_MODULE": "switchboard.settings"}).stdout.split()
    debug, session_secure, csrf_secure, httponly, hsts, subdomains, proxy_header = out
    assert (debug, session_secure, csrf_secure, httponly) == ("False", "True", "True", "True")
    assert int(hsts) >= 31536000 and subdomains == "True" and proxy_header == "True"


def test_deploy_check_has_no_critical_security_warning():
    """``manage.py check --deploy`` in production: only the two documented, deliberate security warnings remain.

    W008 (SECURE_SSL_REDIRECT): the proxy redirects HTTP to HTTPS (deploy/). W021 (HSTS preload): opting into
    browsers' preload list is an operator's decision.
    """
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy"], cwd=ROOT, capture_output=True,
                            text=True, env=_production_env())
    assert result.returncode == 0, result.stderr[-3000:]
    security = set(re.findall(r"\(security\.(W\d+)\)", result.stdout + result.stderr))
    assert security <= {"W008", "W021"}, security


def test_production_refuses_the_public_default_keys():
    env = _production_env()
    del env["SECRET_KEY"]
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, capture_output=True, text=True,
                            env=env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
