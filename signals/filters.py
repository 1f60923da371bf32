"""The inbox filter language's "keyword_flag" condition: conversations that raised any of these flags."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext

from inbox.filters import FilterError, register_condition


def _validate(value: Any, path: str) -> list[str]:
    names = value if isinstance(value, list) else [value]
    if not names or not all(isinstance(name, str) and name for name in names):
        raise FilterError(gettext("%(path)s: expected a flag name or a list of them") % {"path": path})
    return names


def _build(names: list[str], context: Any) -> Q:
    from signals.models import ConversationFlag

    return Q(Exists(ConversationFlag.objects.filter(conversation_id=OuterRef("pk"), flag__in=names)))


def connect() -> None:
    register_condition("keyword_flag", _build, _validate)
