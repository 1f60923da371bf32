"""A fake Meta Graph API on loopback: WhatsApp Cloud API and Messenger Send API messages, and media look-up.

Serves ``POST /{version}/{phone_number_id | page_id}/messages``, ``GET /{version}/{media_id}`` (and the media
file behind its ``url`` at ``GET /media-files/{media_id}``, bearer token required, as WhatsApp's lookaside URL
wants) and ``GET /{version}/{waba_id}/message_templates`` (paged with ``paging.cursors.after``). It checks
``Authorization: Bearer <token>`` (401 with Graph error 190 otherwise) and the documented body shapes (400 with
Graph error 100 naming the problem), and answers with the documented success shapes. Tests can script Graph
errors with :meth:`FakeGraphAPI.fail_with_graph_error` besides the base class's 429/5xx/delay faults.
Documentation: https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages,
https://developers.facebook.com/docs/messenger-platform/reference/send-api/,
https://developers.facebook.com/docs/graph-api/guides/error-handling
"""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

from tests.fakes.server import FakeProvider, RecordedRequest, Reply

GRAPH_ERROR_MESSAGES: dict[int, str] = {
    4: "(#4) Application request limit reached",
    10: "(#10) This message is sent outside of allowed window.",
    100: "(#100) Invalid parameter",
    190: "Invalid OAuth access token - Cannot parse access token",
    551: "This person isn't available right now.",
    613: "(#613) Calls to this api have exceeded the rate limit.",
    130429: "(#130429) Rate limit hit",
    131026: "(#131026) Message Undeliverable",
    131047: "(#131047) Re-engagement message",
    131056: "(#131056) (Business Account, Consumer Account) pair rate limit hit",
}
_MESSAGES_PATH = re.compile(r"^/(v\d+\.\d+)/([^/]+)/messages$")
_NODE_PATH = re.compile(r"^/(v\d+\.\d+)/([^/]+)$")
_TEMPLATES_PATH = re.compile(r"^/(v\d+\.\d+)/([^/]+)/message_templates$")
_MEDIA_FILE_PATH = re.compile(r"^/media-files/([^/]+)$")
_WHATSAPP_MEDIA = ("image", "audio", "video", "document", "sticker")
_WHATSAPP_TYPES = frozenset({*_WHATSAPP_MEDIA, "text", "template", "interactive", "location", "contacts",
                             "reaction"})
_MESSENGER_ATTACHMENTS = frozenset({"image", "audio", "video", "file", "template"})


def graph_error(code: int, message: str | None = None, *, subcode: int | None = None,
                details: str = "") -> dict[str, Any]:
    """The documented Graph error envelope."""
    error: dict[str, Any] = {
        "message": message or GRAPH_ERROR_MESSAGES.get(code, f"(#{code}) error"),
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AbCdEfGhIjK",
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    if details:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    return {"error": error}


class InvalidRequest(Exception):
    """The body breaks the documented shape; answered as Graph error 100."""


class FakeGraphAPI(FakeProvider):
    """``FakeGraphAPI(token="...").start()``; ``fake.sent`` holds the decoded message bodies received."""

    def __init__(self, token: str = "test-token", version: str | None = None) -> None:
        super().__init__()
        self.token = token
        self.version = version  # None: any vNN.N is accepted
        self.media: dict[str, dict[str, Any]] = {}
        self.media_files: dict[str, tuple[bytes, str]] = {}
        self.templates: dict[str, list[dict[str, Any]]] = {}  # by WhatsApp Business Account id
        self._ids = itertools.count(1)

    # -- scripting -------------------------------------------------------------------------------------------
    def fail_with_graph_error(self, code: int, *, subcode: int | None = None, message: str | None = None,
                              status: int = 400, times: int = 1, details: str = "") -> None:
        """Answer the next ``times`` requests with a Graph error (HTTP 400 by default, as Graph does)."""
        self.queue(Reply(status=status, body=graph_error(code, message, subcode=subcode, details=details)), times)

    def reset(self) -> None:
        """Forget requests, scripted replies, media and the id counter: a long-lived fake looks new."""
        super().reset()
        self.media.clear()
        self.media_files.clear()
        self.templates.clear()
        self._ids = itertools.count(1)

    def add_media(self, media_id: str, url: str, mime_type: str) -> None:
        self.media[media_id] = {"url": url, "mime_type": mime_type}

    def add_media_file(self, media_id: str, content: bytes, mime_type: str) -> None:
        """A received media object whose ``url`` this fake serves too (``GET /media-files/{id}``)."""
        self.media_files[media_id] = (content, mime_type)
        self.add_media(media_id, f"{self.base_url}/media-files/{media_id}", mime_type)

    def add_template(self, waba_id: str, name: str, *, language: str = "en_US", status: str = "APPROVED",
                     category: str = "UTILITY", body: str = "Hello {{1}}") -> None:
        """A template of the account, in the documented list shape (components with an upper-case type)."""
        self.templates.setdefault(waba_id, []).append({
            "name": name, "language": language, "status": status, "category": category,
            "components": [{"type": "HEADER", "format": "TEXT", "text": "Update"}, {"type": "BODY", "text": body}],
            "id": str(1000 + len(self.templates[waba_id])),
        })

    @property
    def sent(self) -> list[Any]:
        return [r.json() for r in self.requests if r.method == "POST" and r.path.endswith("/messages")]

    # -- serving ---------------------------------------------------------------------------------------------
    def handle(self, request: RecordedRequest) -> Reply:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return Reply(status=401, body=graph_error(190))
        media_file = _MEDIA_FILE_PATH.match(request.path)
        if media_file and request.method == "GET":
            if media_file.group(1) not in self.media_files:
                return Reply(status=404, body=b"not found", headers={"Content-Type": "text/plain"})
            content, mime_type = self.media_files[media_file.group(1)]
            return Reply(body=content, headers={"Content-Type": mime_type})
        templates = _TEMPLATES_PATH.match(request.path)
        if templates and request.method == "GET":
            return self._templates(templates.group(2), request)
        messages = _MESSAGES_PATH.match(request.path)
        node = _NODE_PATH.match(request.path)
        match = messages or node
        if match is None or (self.version is not None and match.group(1) != self.version):
            return Reply(status=400, body=graph_error(100, f"Unknown path components: {request.path}", subcode=33))
        if messages and request.method == "POST":
            try:
                body = json.loads(request.body or b"null")
                return Reply(body=self._send(messages.group(2), body))
            except (ValueError, TypeError, InvalidRequest) as exc:
                return Reply(status=400, body=graph_error(100, f"(#100) {exc}"))
        if node and request.method == "GET":
            media = self.media.get(node.group(2))
            if media is None:
                return Reply(status=400, body=graph_error(100, "Unsupported get request.", subcode=33))
            return Reply(body={"messaging_product": "whatsapp", "id": node.group(2), "sha256": "0" * 64,
                               "file_size": 1024, **media})
        return Reply(status=400, body=graph_error(100, f"Unsupported {request.method} request.", subcode=33))

    def _templates(self, waba_id: str, request: RecordedRequest) -> Reply:
        """One page of the account's templates: ``limit`` per page, ``after`` the cursor of the previous page."""
        if waba_id not in self.templates:
            return Reply(status=400, body=graph_error(100, "Unsupported get request.", subcode=33))
        fields = set(request.query.get("fields", "").split(","))
        if not {"name", "language", "status", "components"} <= fields:
            return Reply(status=400, body=graph_error(100, "(#100) fields must list name, language, status..."))
        limit = int(request.query.get("limit") or 25)
        start = int(request.query.get("after") or 0)
        items = self.templates[waba_id]
        page = [{k: v for k, v in t.items() if k in fields or k == "id"} for t in items[start:start + limit]]
        paging: dict[str, Any] = {"cursors": {"before": str(start), "after": str(start + len(page))}}
        if start + limit < len(items):
            paging["next"] = f"{self.base_url}{request.path}?after={start + limit}&limit={limit}"
        return Reply(body={"data": page, "paging": paging})

    def _send(self, account_id: str, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise InvalidRequest("the body must be a JSON object")
        n = next(self._ids)
        if body.get("messaging_product") == "whatsapp":
            _check_whatsapp(body)
            return {"messaging_product": "whatsapp", "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                    "messages": [{"id": f"wamid.FAKE{account_id}{n:06d}"}]}
        if "recipient" in body:
            _check_messenger(body)
            return {"recipient_id": body["recipient"]["id"], "message_id": f"m_FAKE{account_id}{n:06d}"}
        raise InvalidRequest("messaging_product or recipient is required")


def _require(condition: bool, problem: str) -> None:
    if not condition:
        raise InvalidRequest(problem)


def _check_whatsapp(body: dict[str, Any]) -> None:
    _require(isinstance(body.get("to"), str) and bool(body["to"]), "to is required")
    kind = body.get("type", "text")
    _require(kind in _WHATSAPP_TYPES, f"unknown type {kind!r}")
    obj = body.get(kind)
    _require(isinstance(obj, dict), f"the {kind} object is required")
    if kind == "text":
        text = obj.get("body")
        _require(isinstance(text, str) and 0 < len(text) <= 4096, "text.body must have 1 to 4096 characters")
    elif kind in _WHATSAPP_MEDIA:
        _require(bool(obj.get("link")) != bool(obj.get("id")), f"{kind} needs exactly one of link or id")
    elif kind == "template":
        _require(isinstance(obj.get("name"), str) and bool(obj["name"]), "template.name is required")
        language = obj.get("language")
        _require(isinstance(language, dict) and bool(language.get("code")), "template.language.code is required")
        for component in obj.get("components") or []:
            _require(isinstance(component, dict) and component.get("type") in ("header", "body", "button"),
                     "template.components[].type must be header, body or button")
            for parameter in component.get("parameters") or []:
                _require(isinstance(parameter, dict) and parameter.get("type") == "text"
                         and isinstance(parameter.get("text"), str) and bool(parameter["text"]),
                         "template parameters need type text and a text")
    context = body.get("context")
    _require(context is None or (isinstance(context, dict) and bool(context.get("message_id"))),
             "context.message_id is required with context")


def _check_messenger(body: dict[str, Any]) -> None:
    recipient = body.get("recipient")
    _require(isinstance(recipient, dict) and bool(recipient.get("id")), "recipient.id is required")
    messaging_type = body.get("messaging_type")
    _require(messaging_type in ("RESPONSE", "UPDATE", "MESSAGE_TAG"), "messaging_type is required")
    _require((messaging_type == "MESSAGE_TAG") == bool(body.get("tag")), "tag goes with messaging_type MESSAGE_TAG")
    message = body.get("message")
    _require(isinstance(message, dict), "message is required")
    has_text, attachment = "text" in message, message.get("attachment")
    _require(has_text != (attachment is not None), "message needs text or attachment, not both")
    if has_text:
        text = message["text"]
        _require(isinstance(text, str) and 0 < len(text) <= 2000, "message.text must have 1 to 2000 characters")
    else:
        _require(isinstance(attachment, dict) and attachment.get("type") in _MESSENGER_ATTACHMENTS,
                 "attachment.type must be image, audio, video, file or template")
        payload = attachment.get("payload")
        _require(isinstance(payload, dict) and bool(payload.get("url") or payload.get("attachment_id")),
                 "attachment.payload needs url or attachment_id")
