"""A real HTTP server on loopback that records requests and answers from a script.

Fake providers (Graph API, TikTok Business and Events APIs, HubSpot) subclass :class:`FakeProvider` and
implement ``handle(request) -> Reply``. Tests can queue faults that take precedence over the handler:
``fake.fail_next(429, times=2)``, ``fake.fail_next(503)``, ``fake.delay_next(2.0)`` or an arbitrary reply with
``fake.queue(Reply(...))``. Every request is kept in ``fake.requests`` for assertions.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased keys
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0

    def encoded(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


class FakeProvider:
    """Base class: start() on an ephemeral loopback port, stop() when done; ``base_url`` to configure clients."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- scripting -------------------------------------------------------------------------------------------
    def queue(self, reply: Reply, times: int = 1) -> None:
        with self._lock:
            for _ in range(times):
                self._script.append(reply)

    def fail_next(self, status: int, times: int = 1, body: Any = None, headers: dict[str, str] | None = None) -> None:
        self.queue(
            Reply(status=status, body=body if body is not None else {"error": "scripted"}, headers=headers or {}), times
        )

    def delay_next(self, seconds: float, times: int = 1) -> None:
        """The next requests are answered normally, but only after ``seconds`` (a client timeout test)."""
        self.queue(Reply(status=-1, delay=seconds), times)

    def reset(self) -> None:
        with self._lock:
            self._script.clear()
            self.requests.clear()

    def requests_to(self, path_suffix: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith(path_suffix)]

    # -- to implement ----------------------------------------------------------------------------------------
    def handle(self, request: RecordedRequest) -> Reply:
        raise NotImplementedError

    # -- serving ---------------------------------------------------------------------------------------------
    def _respond(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            scripted = self._script.popleft() if self._script else None
        if scripted is not None and scripted.status == -1:
            time.sleep(scripted.delay)
            return self.handle(request)
        if scripted is not None:
            if scripted.delay:
                time.sleep(scripted.delay)
            return scripted
        return self.handle(request)

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeProvider:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm and delayed
            # ACKs add ~40 ms to every keep-alive request.
            disable_nagle_algorithm = True

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = RecordedRequest(
                    method=self.command,
                    path=parts.path,
                    query=dict(parse_qsl(parts.query, keep_blank_values=True)),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                reply = fake._respond(request)
                payload = reply.encoded()
                self.send_response(reply.status)
                content_type = reply.headers.get("Content-Type", "application/json")
                self.send_header("Content-Type", content_type)
                for name, value in reply.headers.items():
                    if name.lower() != "content-type":
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep test output quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
