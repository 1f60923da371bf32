"""A fake TikTok API for Business on loopback: Business Messaging (send, media upload) and the Events API.

Answers like TikTok: HTTP 200 with ``{"code", "message", "request_id", "data"}``, a non-zero ``code`` being
the error. Documentation it follows: https://business-api.tiktok.com/portal/docs?id=1832184403754242 (send),
the media upload endpoint of the Business Messaging API, and the Events API 2.0
(https://ads.tiktok.com/help/article/events-api , ``POST /open_api/v1.3/event/track/``).

Scripting, on top of :class:`~tests.fakes.server.FakeProvider` (``fail_next``, ``delay_next``, ``queue``):
``fake.throttle_next(times=3)`` answers code 40100, ``fake.error_next(40064)`` any envelope error.
Recorded for assertions: ``fake.requests``, ``fake.messages`` (accepted sends), ``fake.media`` (uploads by
media id), ``fake.events`` (accepted Events API events, repeats included, so a test can prove exactly-once
delivery by counting).
"""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
import threading
import uuid
from collections import Counter
from collections.abc import Iterable
from typing import Any

from tests.fakes.server import FakeProvider, RecordedRequest, Reply

SEND_PATH = "/open_api/v1.3/business/message/send/"
MEDIA_UPLOAD_PATH = "/open_api/v1.3/business/message/media/upload/"
MEDIA_DOWNLOAD_PATH = "/open_api/v1.3/business/message/media/download/"
MEDIA_FILE_PREFIX = "/media-files/"
EVENT_TRACK_PATH = "/open_api/v1.3/event/track/"

OK = 0
INVALID_PARAMS = 40002
RATE_LIMITED = 40100
TOKEN_INVALID = 40105
SENDING_TOO_FAST = 40064
UNSUPPORTED_FILE = 40908

TOO_FAST_MESSAGE = "You are sending messages too fast. Take a rest."
MAX_TEXT = 6000
MAX_IMAGE_BYTES = 3 * 1024 * 1024


def envelope(code: int = OK, message: str = "OK", data: Any = None) -> dict[str, Any]:
    return {"code": code, "message": message, "request_id": uuid.uuid4().hex, "data": data if data else {}}


class InvalidParams(Exception):
    """A request field is wrong: answered as code 40002 with a message naming the field."""


class FakeTikTokAPI(FakeProvider):
    """A recording TikTok API.

    ``tokens`` are the Access-Tokens accepted (``events_tokens`` for the Events API, the same by default).
    With ``enforce_reply_limit`` a conversation accepts ``reply_limit`` business messages until
    :meth:`customer_replied`; beyond it, the answer is ``limit_error_code`` (40064, as TikTok partners
    observe; configurable since TikTok documents no distinct code).
    """

    def __init__(
        self,
        *,
        tokens: Iterable[str] = ("test-access-token",),
        events_tokens: Iterable[str] | None = None,
        enforce_reply_limit: bool = False,
        reply_limit: int = 10,
        limit_error_code: int = SENDING_TOO_FAST,
    ) -> None:
        super().__init__()
        self.tokens = set(tokens)
        self.events_tokens = set(events_tokens) if events_tokens is not None else self.tokens
        self.enforce_reply_limit = enforce_reply_limit
        self.reply_limit = reply_limit
        self.limit_error_code = limit_error_code
        self.messages: list[dict[str, Any]] = []
        self.media: dict[str, bytes] = {}
        self.received_media: dict[str, tuple[bytes, str]] = {}  # media a customer sent, by media id
        self.events: list[dict[str, Any]] = []
        self._since_reply: Counter[str] = Counter()
        self._ids = itertools.count(1)
        self._state = threading.Lock()

    # -- scripting -------------------------------------------------------------------------------------------
    def error_next(self, code: int, message: str = "", times: int = 1) -> None:
        """The next ``times`` requests get an HTTP 200 envelope with ``code`` (e.g. 40001, 40064, 40105)."""
        self.queue(Reply(status=200, body=envelope(code, message or f"scripted error {code}")), times)

    def throttle_next(self, times: int = 1) -> None:
        self.error_next(RATE_LIMITED, "Too many requests. Please retry in some time.", times)

    def customer_replied(self, conversation_id: str) -> None:
        """The customer wrote again: the business may send ``reply_limit`` more messages."""
        with self._state:
            self._since_reply.pop(conversation_id, None)

    def add_received_media(self, media_id: str, content: bytes, mime_type: str = "image/jpeg") -> None:
        """A file a customer sent: the download endpoint answers its URL, which wants ``x-user: <token>``."""
        self.received_media[media_id] = (content, mime_type)

    def reset(self) -> None:
        super().reset()
        with self._state:
            self.messages.clear()
            self.media.clear()
            self.received_media.clear()
            self.events.clear()
            self._since_reply.clear()

    def event_ids(self) -> Counter[tuple[str, str]]:
        """How many times each ``(event, event_id)`` was accepted: anything above 1 is a duplicate."""
        return Counter((e["event"], e["event_id"]) for e in self.events)

    # -- serving ---------------------------------------------------------------------------------------------
    def handle(self, request: RecordedRequest) -> Reply:
        if request.path.startswith(MEDIA_FILE_PREFIX) and request.method == "GET":
            return self._media_file(request)
        routes = {SEND_PATH: self._send, MEDIA_UPLOAD_PATH: self._upload, EVENT_TRACK_PATH: self._track,
                  MEDIA_DOWNLOAD_PATH: self._download}
        route = routes.get(request.path)
        if route is None or request.method != "POST":
            missing = f"no such endpoint: {request.method} {request.path}"
            return Reply(status=404, body=envelope(40007, missing))
        tokens = self.events_tokens if request.path == EVENT_TRACK_PATH else self.tokens
        token = request.headers.get("access-token", "")
        if not token:
            return _answer(TOKEN_INVALID, "Access token is missing: set the Access-Token header.")
        if token not in tokens:
            return _answer(TOKEN_INVALID, "Access token is incorrect or has been revoked.")
        try:
            return route(request)
        except InvalidParams as exc:
            return _answer(INVALID_PARAMS, str(exc))

    def _download(self, request: RecordedRequest) -> Reply:
        body = _json_object(request)
        for key in ("business_id", "conversation_id", "message_id", "media_id"):
            _string(body, key)
        if body.get("media_type") not in ("IMAGE", "VIDEO"):
            raise InvalidParams("media_type must be IMAGE or VIDEO")
        if body["media_id"] not in self.received_media:
            return _answer(INVALID_PARAMS, "media not found")
        return _answer(OK, "OK", {"download_url": f"{self.base_url}{MEDIA_FILE_PREFIX}{body['media_id']}"})

    def _media_file(self, request: RecordedRequest) -> Reply:
        if request.headers.get("x-user", "") not in self.tokens:
            return Reply(status=403, body=b"forbidden", headers={"Content-Type": "text/plain"})
        found = self.received_media.get(request.path[len(MEDIA_FILE_PREFIX):])
        if found is None:
            return Reply(status=404, body=b"not found", headers={"Content-Type": "text/plain"})
        return Reply(body=found[0], headers={"Content-Type": found[1]})

    def _send(self, request: RecordedRequest) -> Reply:
        body = _json_object(request)
        _string(body, "business_id")
        if body.get("recipient_type") != "CONVERSATION":
            raise InvalidParams("recipient_type: must be CONVERSATION")
        conversation = _string(body, "recipient")
        message_type = body.get("message_type")
        if message_type == "TEXT":
            text = _string(_object(body, "text"), "body", "text.body")
            if len(text) > MAX_TEXT:
                raise InvalidParams(f"text.body: longer than {MAX_TEXT} characters")
        elif message_type == "IMAGE":
            media_id = _string(_object(body, "image"), "media_id", "image.media_id")
            if media_id not in self.media:
                raise InvalidParams("image.media_id: unknown media, upload it first")
        else:
            raise InvalidParams("message_type: must be TEXT or IMAGE")
        if "referenced_message_info" in body:
            _string(_object(body, "referenced_message_info"), "referenced_message_id",
                    "referenced_message_info.referenced_message_id")
        with self._state:
            if self.enforce_reply_limit and self._since_reply[conversation] >= self.reply_limit:
                return _answer(self.limit_error_code, TOO_FAST_MESSAGE)
            self._since_reply[conversation] += 1
            message_id = f"tt-msg-{next(self._ids)}"
            self.messages.append({**body, "message_id": message_id})
        return _answer(OK, "OK", {"message": {"message_id": message_id}})

    def _upload(self, request: RecordedRequest) -> Reply:
        fields, files = _multipart(request)
        if not fields.get("business_id"):
            raise InvalidParams("business_id: required")
        if fields.get("media_type") != "IMAGE":
            raise InvalidParams("media_type: must be IMAGE")
        if "file" not in files:
            raise InvalidParams("file: required")
        content, content_type = files["file"]
        if content_type not in ("image/jpeg", "image/png"):
            return _answer(UNSUPPORTED_FILE, f"Unsupported file format: {content_type}")
        if len(content) > MAX_IMAGE_BYTES:
            raise InvalidParams("file: larger than 3 MB")
        with self._state:
            media_id = f"tt-media-{next(self._ids)}"
            self.media[media_id] = content
        return _answer(OK, "OK", {"media_id": media_id})

    def _track(self, request: RecordedRequest) -> Reply:
        body = _json_object(request)
        source = _string(body, "event_source")
        source_id = _string(body, "event_source_id")
        for optional in ("test_event_code", "partner_name"):
            if optional in body and not isinstance(body[optional], str):
                raise InvalidParams(f"{optional}: must be a string")
        data = body.get("data")
        if not isinstance(data, list) or not data:
            raise InvalidParams("data: must be a non-empty list of events")
        accepted = []
        for index, item in enumerate(data):
            where = f"data[{index}]"
            if not isinstance(item, dict):
                raise InvalidParams(f"{where}: must be an object")
            _string(item, "event", f"{where}.event")
            _string(item, "event_id", f"{where}.event_id")
            event_time = item.get("event_time")
            if isinstance(event_time, bool) or not isinstance(event_time, int) or event_time <= 0:
                raise InvalidParams(f"{where}.event_time: must be an integer unix time in seconds")
            if event_time > 10**11:
                raise InvalidParams(f"{where}.event_time: must be in seconds, not milliseconds")
            for optional in ("user", "properties"):
                if optional in item and not isinstance(item[optional], dict):
                    raise InvalidParams(f"{where}.{optional}: must be an object")
            accepted.append({
                **item,
                "event_source": source,
                "event_source_id": source_id,
                "test_event_code": body.get("test_event_code", ""),
                "partner_name": body.get("partner_name", ""),
            })
        # All or nothing, as a validation error rejects the whole batch.
        with self._state:
            self.events.extend(accepted)
        return _answer(OK, "OK")


def _answer(code: int, message: str, data: Any = None) -> Reply:
    return Reply(status=200, body=envelope(code, message, data))


def _json_object(request: RecordedRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"null")
    except ValueError:
        raise InvalidParams("body: not valid JSON") from None
    if not isinstance(body, dict):
        raise InvalidParams("body: must be a JSON object")
    return body


def _object(parent: dict[str, Any], key: str) -> dict[str, Any]:
    value = parent.get(key)
    if not isinstance(value, dict):
        raise InvalidParams(f"{key}: must be an object")
    return value


def _string(parent: dict[str, Any], key: str, name: str | None = None) -> str:
    value = parent.get(key)
    if not isinstance(value, str) or not value:
        raise InvalidParams(f"{name or key}: required, a non-empty string")
    return value


def _multipart(request: RecordedRequest) -> tuple[dict[str, str], dict[str, tuple[bytes, str]]]:
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise InvalidParams("body: must be multipart/form-data")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + request.body
    )
    fields: dict[str, str] = {}
    files: dict[str, tuple[bytes, str]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        if part.get_filename():
            files[str(name)] = (payload, part.get_content_type())
        else:
            fields[str(name)] = payload.decode()
    return fields, files
