"""Typed access to Meta webhook JSON that never raises anything but :class:`ParseError`.

Webhook bodies come from the internet: any value may have any JSON type. These helpers are what the
provider ``parsing`` modules use so that a wrong type anywhere becomes either a documented default (optional
fields) or a :class:`ParseError` naming the field (required ones), never a ``TypeError``.
Envelope documentation: https://developers.facebook.com/docs/graph-api/webhooks/getting-started
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

from integrations.channels.base import ParseError

JSONObject = dict[str, Any]


def describe(value: Any) -> str:
    """A short, safe description of a value for error messages (never ``repr`` of deep structures)."""
    if isinstance(value, str):
        return repr(value[:40] + ("..." if len(value) > 40 else ""))
    if value is None or isinstance(value, bool | int | float):
        return str(value)[:40]
    return f"a JSON {'array' if isinstance(value, list) else 'object'}"


def load_envelope(raw: bytes, expected_object: str) -> JSONObject:
    """Decode ``raw`` and check its ``object`` field, or raise :class:`ParseError` with the reason."""
    try:
        data = json.loads(raw)
    except RecursionError:
        # The C decoder refuses absurd nesting with RecursionError, which is not a ValueError.
        raise ParseError("body is not usable JSON: nested too deeply") from None
    except (ValueError, TypeError) as exc:
        raise ParseError(f"body is not JSON ({exc.__class__.__name__})") from None
    if not isinstance(data, dict):
        raise ParseError(f"body is {describe(data)}, expected a JSON object")
    found = data.get("object")
    if found != expected_object:
        raise ParseError(f'"object" is {describe(found)}, expected {expected_object!r}')
    return data


def opt_dict(obj: JSONObject, key: str) -> JSONObject:
    value = obj.get(key)
    return value if isinstance(value, dict) else {}


def opt_list(obj: JSONObject, key: str) -> list[Any]:
    value = obj.get(key)
    return value if isinstance(value, list) else []


def opt_str(obj: JSONObject, key: str) -> str:
    """A string field; numbers are accepted as ids often arrive unquoted in hand-written fixtures."""
    value = obj.get(key)
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return ""


def opt_scalar(obj: JSONObject, key: str) -> str | int | float | bool | None:
    value = obj.get(key)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value if isinstance(value, str | int | float | bool) else None


def pick_scalars(obj: JSONObject, keys: tuple[str, ...]) -> dict[str, Any]:
    """The scalar (string, number, boolean) values among ``keys``: attribution and location data."""
    return {k: v for k in keys if (v := opt_scalar(obj, k)) is not None}


def req_dict(obj: JSONObject, key: str, where: str) -> JSONObject:
    value = obj.get(key)
    if not isinstance(value, dict):
        raise ParseError(f"{where}.{key} is {'missing' if value is None else describe(value)}, expected an object")
    return value


def req_list(obj: JSONObject, key: str, where: str) -> list[Any]:
    value = obj.get(key)
    if not isinstance(value, list):
        raise ParseError(f"{where}.{key} is {'missing' if value is None else describe(value)}, expected an array")
    return value


def as_dict(value: Any, where: str) -> JSONObject:
    if not isinstance(value, dict):
        raise ParseError(f"{where} is {describe(value)}, expected an object")
    return value


def req_str(obj: JSONObject, key: str, where: str) -> str:
    value = opt_str(obj, key)
    if not value:
        found = obj.get(key)
        raise ParseError(f"{where}.{key} is {'missing' if found is None else describe(found)}, expected an id")
    return value


def req_time(obj: JSONObject, key: str, where: str, *, millis: bool) -> datetime:
    """A unix timestamp (seconds, or milliseconds with ``millis``) as an aware UTC datetime."""
    value = to_datetime(obj.get(key), millis=millis)
    if value is None:
        found = obj.get(key)
        unit = "milliseconds" if millis else "seconds"
        raise ParseError(
            f"{where}.{key} is {'missing' if found is None else describe(found)}, expected unix {unit}"
        )
    return value


def to_datetime(value: Any, *, millis: bool) -> datetime | None:
    """Convert unix seconds/milliseconds given as a number or a numeric string; ``None`` when impossible."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            number: float = float(value) if "." in value else int(value)
        except ValueError:  # also raised for absurdly long digit strings
            return None
    elif isinstance(value, int | float):
        number = value
    else:
        return None
    try:
        seconds = number / 1000 if millis else number
        if not math.isfinite(seconds) or seconds < 0:
            return None
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
