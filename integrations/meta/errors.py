"""Graph API errors and what they mean for an agent.

Every Graph error has the envelope ``{"error": {"message", "type", "code", "error_subcode", "error_data":
{"details"}, "fbtrace_id"}}``. The codes below are the ones an inbox meets when sending; everything else is
shown as ``provider error <code>: <message>``.
Documentation: https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes and
https://developers.facebook.com/docs/messenger-platform/error-codes
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from integrations.channels.base import MediaError, SendError

OUTSIDE_WINDOW = "outside the 24-hour window"
TOO_FAST = "sending too fast"
RECIPIENT_UNAVAILABLE = "recipient unavailable"
TOKEN_INVALID = "access token invalid or expired"

# Throughput (130429), pair rate (131056), Messenger/Graph app and page rate limits (4, 613, 80006, 80007).
THROTTLING_CODES = frozenset({4, 17, 613, 80006, 80007, 130429, 131056})
# WhatsApp 131047 re-engagement; Messenger code 10 with these subcodes is the standard/HUMAN_AGENT window.
_OUTSIDE_WINDOW_CODES = frozenset({131047})
_OUTSIDE_WINDOW_SUBCODES = frozenset({2018278, 2018065})
# WhatsApp 131026 undeliverable; Messenger 551 / subcode 1545041 "This person isn't available right now".
_UNAVAILABLE_CODES = frozenset({131026, 551})
_UNAVAILABLE_SUBCODES = frozenset({1545041})
_TOKEN_CODES = frozenset({190})
# "Temporary" Graph failures worth another try later (unknown error, service unavailable, WhatsApp 131000/131016).
_TRANSIENT_CODES = frozenset({1, 2, 131000, 131016})


class MediaFetchError(MediaError):
    """Fetching a media object's URL failed; ``reason``/``code``/``retryable`` as in :class:`SendError`."""

    def __init__(self, reason: str, *, code: str = "", retryable: bool = False, not_found: bool = False):
        super().__init__(reason, code=code, retryable=retryable, not_found=not_found)


@dataclass  # not frozen: raising and add_note() set attributes on exceptions
class GraphError(Exception):
    """A failed Graph call: the provider's error envelope, or a transport failure (``code`` is ``None``)."""

    message: str
    status: int | None = None
    code: int | None = None
    subcode: int | None = None
    details: str = ""
    transient: bool = False  # the HTTP client gave up retrying (timeouts, 429, 5xx, throttling codes)
    retry_after: float | None = None

    def __str__(self) -> str:
        return self.message


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit() and len(value) < 20:
        return int(value)
    return None


def error_code(body: Any) -> int | None:
    """The Graph ``error.code`` of a decoded body, if it has one."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return _int(body["error"].get("code"))
    return None


def graph_error_from_body(
    body: Any, *, status: int | None, transient: bool = False, retry_after: float | None = None, fallback: str = ""
) -> GraphError:
    """Build a :class:`GraphError` from a decoded response body of any shape."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return GraphError(
            fallback or f"the provider answered HTTP {status}", status=status, transient=transient,
            retry_after=retry_after,
        )
    data = error.get("error_data")
    details = data.get("details") if isinstance(data, dict) else data
    message = error.get("message")
    return GraphError(
        message if isinstance(message, str) and message else (fallback or "unknown Graph error"),
        status=status,
        code=_int(error.get("code")),
        subcode=_int(error.get("error_subcode")),
        details=details if isinstance(details, str) else "",
        transient=transient,
        retry_after=retry_after,
    )


def reason_for(code: int | None, subcode: int | None = None) -> str | None:
    """The agent-facing reason for a Graph (or WhatsApp status) error code, ``None`` when not a known one."""
    if code in _OUTSIDE_WINDOW_CODES or subcode in _OUTSIDE_WINDOW_SUBCODES:
        return OUTSIDE_WINDOW
    if code in THROTTLING_CODES:
        return TOO_FAST
    if code in _UNAVAILABLE_CODES or subcode in _UNAVAILABLE_SUBCODES:
        return RECIPIENT_UNAVAILABLE
    if code in _TOKEN_CODES:
        return TOKEN_INVALID
    return None


def send_error(error: GraphError) -> SendError:
    """Turn a :class:`GraphError` into the :class:`SendError` agents see on the message."""
    known = reason_for(error.code, error.subcode)
    if known is None and error.code == 10 and "allowed window" in error.message:
        # Older Messenger answers carry "(#10) This message is sent outside of allowed window" with no subcode.
        known = OUTSIDE_WINDOW
    code = str(error.code) if error.code is not None else (str(error.status) if error.status else "")
    if known is not None:
        retryable = known == TOO_FAST
        return SendError(known, code=code, retryable=retryable, retry_after=error.retry_after)
    if error.code is None:
        # Transport-level: no Graph answer we could read (timeouts, 5xx pages, unreachable host).
        return SendError(error.message, code=code, retryable=error.transient, retry_after=error.retry_after)
    text = error.details or error.message
    return SendError(
        f"provider error {error.code}: {text}",
        code=code,
        retryable=error.transient or error.code in _TRANSIENT_CODES,
        retry_after=error.retry_after,
    )
