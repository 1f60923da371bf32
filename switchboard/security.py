"""Browser security headers Django 5.2 does not set itself: a Content-Security-Policy on every response.

Pages load their JavaScript and CSS from our own static files (``static/<name>.js``), so scripts, styles and
fetches are limited to the site itself; the inbox's websocket is allowed explicitly on ``ws:``/``wss:`` of the
same host (older browsers do not count those schemes as ``'self'``). Style *attributes* stay allowed
(``style-src-attr 'unsafe-inline'``): label chips set a CSS custom property inline (``--label-colour``); that
allows no ``<style>`` element and no script. ``CONTENT_SECURITY_POLICY_EXEMPT_PATHS`` lists path prefixes whose
pages still carry inline scripts (third-party views) and get no policy until they are moved to files (none now);
``CONTENT_SECURITY_POLICY_PATH_DIRECTIVES`` loosens single directives under a path prefix instead.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

HEADER = "Content-Security-Policy"

DEFAULT_POLICY = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self' {ws}",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
)


def content_security_policy(request: HttpRequest) -> str:
    """The policy for ``request``: the configured directives with this host's websocket origins filled in."""
    directives = list(getattr(settings, "CONTENT_SECURITY_POLICY", None) or DEFAULT_POLICY)
    for prefix, replacements in getattr(settings, "CONTENT_SECURITY_POLICY_PATH_DIRECTIVES", {}).items():
        if request.path.startswith(prefix):
            by_name = {directive.split()[0]: directive for directive in replacements}
            directives = [by_name.get(directive.split()[0], directive) for directive in directives]
    host = request.get_host()
    return "; ".join(directives).replace("{ws}", f"ws://{host} wss://{host}")


class ContentSecurityPolicyMiddleware:
    """Add ``Content-Security-Policy`` to every response that does not set its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        exempt = getattr(settings, "CONTENT_SECURITY_POLICY_EXEMPT_PATHS", ())
        if HEADER not in response and not request.path.startswith(tuple(exempt)):
            response[HEADER] = content_security_policy(request)
        return response
