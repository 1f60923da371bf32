"""Calling a WSGI application the way gunicorn does (``CONTENT_LENGTH``, ``HTTP_*``, the body in ``wsgi.input``),
for tests of what runs ahead of Django's handler (``switchboard.wsgi.application``). Django's test client goes
through its own handler instead, so it never reaches that code."""

from __future__ import annotations

import io
import json
from typing import Any

from switchboard import wsgi


class Answer:
    def __init__(self, status: str, headers: list[tuple[str, str]], iterable: Any) -> None:
        self.status_code = int(status.split()[0])
        self.reason = status.split(" ", 1)[1]
        self.header_list = headers
        self.headers = dict(headers)
        self.iterable = iterable
        self.content = b"".join(iterable)
        self.closed = False

    def close(self) -> None:
        if hasattr(self.iterable, "close"):
            self.iterable.close()
        self.closed = True

    def json(self) -> dict[str, Any]:
        return json.loads(self.content)


def call(
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    app: Any = None,
    close: bool = True,
    content_length: str | None = None,
    content_type: str = "application/json",
    environ_extra: dict[str, str] | None = None,
) -> Answer:
    """One request as gunicorn hands it over (``CONTENT_LENGTH``, ``HTTP_*``), body read from ``wsgi.input``."""
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "testserver",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if body or method == "POST":
        environ["CONTENT_TYPE"] = content_type
        environ["CONTENT_LENGTH"] = str(len(body)) if content_length is None else content_length
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    environ.update(environ_extra or {})  # raw environ keys, as Django's test client takes them
    started: list[tuple[str, list[tuple[str, str]]]] = []
    iterable = (app or wsgi.application)(
        environ, lambda status, headers, exc_info=None: started.append((status, headers))
    )
    answer = Answer(*started[0], iterable)
    if close:
        answer.close()
    return answer
