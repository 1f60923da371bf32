"""Machine-to-machine endpoints skip the browser's middleware.

Provider webhooks carry no cookies, no session, no language and no CSRF token: they are signed requests that
must be answered within milliseconds. Sessions, authentication, locale, the user's preferences, messages,
clickjacking and the Content-Security-Policy do nothing useful for them, yet cost about a millisecond of CPU
per request (``bench/ingest.py``). :class:`MachineEndpointMiddleware`, placed right after ``SecurityMiddleware``,
answers requests whose path starts with one of ``MACHINE_PATH_PREFIXES`` by calling the resolved view itself.

Only views marked ``csrf_exempt`` are served this way (a view that needs CSRF, sessions or a user goes through
the whole stack as before), and a path that does not resolve goes through the whole stack too, so redirects
such as ``APPEND_SLASH`` and the 404 page behave exactly as elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, get_resolver, get_urlconf


class MachineEndpointMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.prefixes = tuple(getattr(settings, "MACHINE_PATH_PREFIXES", ()))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not self.prefixes or not request.path_info.startswith(self.prefixes):
            return self.get_response(request)
        try:
            match = get_resolver(get_urlconf()).resolve(request.path_info)
        except Resolver404:
            return self.get_response(request)
        if not getattr(match.func, "csrf_exempt", False):
            return self.get_response(request)
        request.resolver_match = match
        response = match.func(request, *match.args, **match.kwargs)
        if not response.streaming and not response.has_header("Content-Length"):
            # As CommonMiddleware does for every other response: without it servers answer chunked.
            response.headers["Content-Length"] = str(len(response.content))
        return response
