"""Provider webhook POSTs answered ahead of Django's request handling (issue 9: ack p99 < 25 ms at 1,000/s).

Even a bare Django view costs about 0.5-0.7 ms of CPU per request before it does any work (WSGIRequest, header
parsing, the URL resolver over every app's patterns, the middleware chain, HttpResponse), more than verifying and
storing a delivery. :class:`WebhookIngress` wraps the WSGI application (``switchboard/wsgi.py``) and serves
``POST /webhooks/<provider>/<channel id>/`` and ``POST /webhooks/<provider>/`` itself: it is a thin view like
``integrations.views.webhook`` (the work is ``webhooks.webhook_receive``), and it reproduces what Django's
handler and the middleware in front of ``MachineEndpointMiddleware`` do on that path:

- ``request_started`` / ``request_finished`` (so ``close_old_connections`` and ``CONN_MAX_AGE`` behave as for any
  request; ``request_finished`` is sent from the answer's ``close()``, after the enqueue, as ``AckResponse`` does);
- ``RequestIdMiddleware``: the proxy's ``X-Request-ID`` or a new one, in the logs and the answer;
- ``SecurityMiddleware``: its response headers, computed by SecurityMiddleware itself once per process;
- ``Content-Length`` (``MachineEndpointMiddleware``), the JSON bodies and statuses of the view;
- ``django.request`` log records for 4xx answers; an unexpected exception goes through Django's own
  ``response_for_exception`` (logged with its traceback, ``got_request_exception``, the 500 handler's page).

Anything else falls through to Django unchanged: other methods (the GET handshake), other paths, providers
without an adapter, a missing or unusual ``Content-Length`` (chunked, signed, spaces, too large: the view's own
400/413), an HTTPS redirect that ``SecurityMiddleware`` would make, or a configuration this module was not
written for (the middleware before ``MachineEndpointMiddleware`` changed, ``/webhooks/`` resolving elsewhere).
``WEBHOOK_FAST_INGRESS=false`` turns it off.
"""

from __future__ import annotations

import io
import json
import logging
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from http.client import responses
from typing import Any

from django.conf import settings
from django.core.handlers.exception import response_for_exception
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest
from django.core.signals import request_finished, request_started
from django.http import HttpResponse, QueryDict
from django.middleware.security import SecurityMiddleware
from django.test.signals import setting_changed
from django.urls import Resolver404, get_resolver

from integrations.channels.base import WebhookRequest
from switchboard.observability import REQUEST_ID_HEADER, new_request_id, request_id_var

logger = logging.getLogger("django.request")  # where Django's handler logs 4xx/5xx answers

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

# The two URL patterns of integrations/urls.py, in Django's converters' syntax (slug, int): ASCII only.
_PATH = re.compile(r"/webhooks/([-a-zA-Z0-9_]+)/(?:([0-9]+)/)?")
# What must come before MachineEndpointMiddleware for the headers reproduced here to be the whole story.
_EXPECTED_MIDDLEWARE = (
    "switchboard.observability.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "switchboard.middleware.MachineEndpointMiddleware",
)
_UNPREFIXED_HEADERS = {"CONTENT_TYPE": "content-type", "CONTENT_LENGTH": "content-length"}


class _SecureProbe:
    """Stands for a request in ``SecurityMiddleware.process_response``, which only asks ``is_secure()``."""

    def __init__(self, secure: bool) -> None:
        self.secure = secure

    def is_secure(self) -> bool:
        return self.secure


@dataclass(frozen=True)
class _Config:
    """What the fast path needs from the settings, worked out once per process (again if settings change)."""

    enabled: bool
    providers: frozenset[str]
    max_body: int
    https_redirect: bool
    headers_by_security: tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]  # (http, https)

    @property
    def scheme_matters(self) -> bool:
        return self.https_redirect or self.headers_by_security[0] != self.headers_by_security[1]


def _security_headers(middleware: SecurityMiddleware, secure: bool) -> tuple[tuple[str, str], ...]:
    # SecurityMiddleware's own process_response on an empty answer: its headers, whatever its settings.
    probe = HttpResponse()
    del probe["Content-Type"]
    middleware.process_response(_SecureProbe(secure), probe)  # type: ignore[arg-type]
    return tuple(probe.items())


def _load_config() -> _Config:
    from integrations.channels.registry import known_providers
    from integrations.views import MAX_BODY_BYTES, webhook

    disabled = _Config(False, frozenset(), 0, False, ((), ()))
    if not getattr(settings, "WEBHOOK_FAST_INGRESS", True):
        return disabled
    if tuple(settings.MIDDLEWARE[: len(_EXPECTED_MIDDLEWARE)]) != _EXPECTED_MIDDLEWARE or "/webhooks/" not in tuple(
        getattr(settings, "MACHINE_PATH_PREFIXES", ())
    ):
        logger.warning("webhook fast ingress off: the middleware in front of webhooks is not the expected one")
        return disabled
    resolver = get_resolver(settings.ROOT_URLCONF)
    providers = set()
    for provider in known_providers():
        try:
            served = all(
                resolver.resolve(path).func is webhook
                for path in (f"/webhooks/{provider}/", f"/webhooks/{provider}/1/")
            )
        except Resolver404:
            served = False
        if served:
            providers.add(provider)
    middleware = SecurityMiddleware(lambda request: HttpResponse())
    max_body = MAX_BODY_BYTES
    if settings.DATA_UPLOAD_MAX_MEMORY_SIZE is not None:  # Django refuses a larger body before the view runs
        max_body = min(max_body, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    return _Config(
        enabled=bool(providers),
        providers=frozenset(providers),
        max_body=max_body,
        https_redirect=bool(middleware.redirect),
        headers_by_security=(_security_headers(middleware, False), _security_headers(middleware, True)),
    )


def _is_secure(environ: dict[str, Any]) -> bool:
    """``HttpRequest.is_secure()`` on a WSGI environ (``SECURE_PROXY_SSL_HEADER`` first, as Django reads it)."""
    if settings.SECURE_PROXY_SSL_HEADER:
        header, secure_value = settings.SECURE_PROXY_SSL_HEADER
        value = environ.get(header)
        if value is not None:
            return value.split(",", 1)[0].strip() == secure_value
    return environ.get("wsgi.url_scheme") == "https"


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    """``{k.lower(): v for k, v in request.headers.items()}`` of the Django view, read from the environ."""
    headers = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers[key[5:].replace("_", "-").lower()] = value
        elif key in _UNPREFIXED_HEADERS:
            headers[_UNPREFIXED_HEADERS[key]] = value
    return headers


def _query(environ: dict[str, Any]) -> dict[str, str]:
    raw = environ.get("QUERY_STRING", "")
    if not raw:
        return {}
    params = QueryDict(raw.encode("iso-8859-1"), encoding=settings.DEFAULT_CHARSET)
    return {key: params.get(key, "") for key in params}


class _Answer:
    """The WSGI body: one chunk. Servers call ``close()`` once it was sent: then the stored deliveries are
    enqueued (``EnqueueAfterSent``), and ``request_finished`` closes expired database connections."""

    def __init__(self, body: bytes, after_sent: Any) -> None:
        self.body = body
        self.after_sent = after_sent

    def __iter__(self) -> Iterator[bytes]:
        return iter((self.body,))

    def close(self) -> None:
        try:
            self.after_sent.flush()
        finally:
            request_finished.send(sender=WSGIHandler)


class WebhookIngress:
    """WSGI middleware: provider webhook POSTs here, everything else to ``app`` (Django's WSGIHandler)."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app
        self._config: _Config | None = None
        self._lock = threading.Lock()
        setting_changed.connect(self._forget_config, weak=False)

    def _forget_config(self, **_: Any) -> None:
        self._config = None

    def config(self) -> _Config:
        config = self._config
        if config is None:
            with self._lock:
                config = self._config = self._config or _load_config()
        return config

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            return self.app(environ, start_response)
        match = _PATH.fullmatch(environ.get("PATH_INFO", ""))
        length = environ.get("CONTENT_LENGTH", "")
        # Only a plain decimal Content-Length: the view answers anything else (400, 413) and Django reads chunked
        # or missing lengths its own way.
        if match is None or not (length.isascii() and length.isdigit()):
            return self.app(environ, start_response)
        config = self.config()
        provider = match.group(1)
        if not config.enabled or provider not in config.providers or int(length) > config.max_body:
            return self.app(environ, start_response)
        secure = _is_secure(environ) if config.scheme_matters else False
        if config.https_redirect and not secure:
            return self.app(environ, start_response)  # SecurityMiddleware answers with the redirect
        channel_id = int(match.group(2)) if match.group(2) is not None else None
        return self._serve(environ, start_response, provider, channel_id, int(length), secure, config)

    def _serve(
        self,
        environ: dict[str, Any],
        start_response: StartResponse,
        provider: str,
        channel_id: int | None,
        length: int,
        secure: bool,
        config: _Config,
    ) -> Iterable[bytes]:
        from integrations.services import webhooks
        from integrations.views import EnqueueAfterSent

        request_started.send(sender=WSGIHandler, environ=environ)
        incoming = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if incoming.isalnum() and len(incoming) <= 64 else new_request_id()
        token = request_id_var.set(request_id)
        after_sent = EnqueueAfterSent()
        body = b""
        try:
            body = environ["wsgi.input"].read(length) if length else b""
            request = WebhookRequest(method="POST", body=body, headers=_headers(environ), query=_query(environ))
            ack = webhooks.webhook_receive(
                provider=provider, channel_id=channel_id, request=request, enqueue=after_sent
            )
            payload = {"status": ack.detail} if ack.status < 400 else {"error": ack.detail}
            status, content = ack.status, json.dumps(payload).encode()
            headers = [("Content-Type", "application/json"), ("Content-Length", str(len(content)))]
            if status >= 400:
                # As Django's handler logs every 4xx answer (log_response); the request id is set here.
                path = environ.get("SCRIPT_NAME", "").rstrip("/") + environ.get("PATH_INFO", "")
                path = path.encode("unicode_escape").decode("ascii")
                logger.warning(
                    "%s: %s", responses[status], path, extra={"status_code": status, "request": f"POST {path}"}
                )
        except Exception as exc:
            status, headers, content = self._error_answer(environ, body, exc)
        finally:
            request_id_var.reset(token)
        headers.extend(config.headers_by_security[secure])
        headers.append((REQUEST_ID_HEADER, request_id))
        start_response(f"{status} {responses.get(status, 'Unknown Status Code')}", headers)
        return _Answer(content, after_sent)

    @staticmethod
    def _error_answer(environ: dict[str, Any], body: bytes, exc: Exception) -> tuple[int, list[tuple[str, str]], bytes]:
        """Django's answer to an unexpected exception in a view (logged with the traceback; the 500 page, a
        traceback only with DEBUG), on a real WSGIRequest of this request."""
        request = WSGIRequest({**environ, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))})
        response = response_for_exception(request, exc)
        return response.status_code, list(response.items()), response.content
