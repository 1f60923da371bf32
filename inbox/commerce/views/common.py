"""Helpers shared by the commerce views: turning service errors into what a person reads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext


def error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def is_fragment_request(request: HttpRequest) -> bool:
    return request.headers.get("X-Requested-With") == "commerce-panel"


def parse_when(value: str) -> datetime:
    """An ISO datetime with an offset (what the slot picker submits); naive input is refused."""
    parsed = parse_datetime((value or "").strip())
    if parsed is None:
        raise ValidationError(gettext("Pick a time."))
    if timezone.is_naive(parsed):
        raise ValidationError(gettext("The time needs a time zone offset."))
    return parsed


def post_list(request: HttpRequest, key: str) -> list[Any]:
    return request.POST.getlist(key)
