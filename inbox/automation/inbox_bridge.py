"""Lazy access to inbox features built concurrently elsewhere (labels, notes, assignment, orders).

Automation calls the owning app's service when it exists and otherwise reports "not available yet", so rules
can be written today and start acting the day the service lands. Services are looked up by name in every module
of ``inbox.services`` (and ``inbox.commerce.services`` / ``commerce.services`` for orders); keyword arguments are
offered under the usual names and filtered by the function's signature, so a small naming difference does not
break the call, and a required parameter we cannot supply gives a clear reason instead of a crash.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from typing import Any


class Unavailable(Exception):
    """The inbox feature an action needs does not exist (yet), or its service asks for something we lack."""


def find_service(name: str, *packages: str) -> Callable[..., Any] | None:
    """The first function called ``name`` in the modules of ``packages`` (default ``inbox.services``)."""
    for package_name in packages or ("inbox.services",):
        try:
            package = importlib.import_module(package_name)
        except ImportError:
            continue
        fn = getattr(package, name, None)
        if callable(fn):
            return fn
        for module_info in pkgutil.iter_modules(getattr(package, "__path__", [])):
            try:
                module = importlib.import_module(f"{package_name}.{module_info.name}")
            except ImportError:
                continue
            fn = getattr(module, name, None)
            if callable(fn):
                return fn
    return None


def call_service(name: str, candidates: dict[str, Any], *packages: str) -> Any:
    """Call service ``name`` with the ``candidates`` its signature accepts; :class:`Unavailable` otherwise."""
    fn = find_service(name, *packages)
    if fn is None:
        raise Unavailable(f"{name} is not available yet")
    signature = inspect.signature(fn)
    kwargs = {k: v for k, v in candidates.items() if k in signature.parameters}
    missing = [
        p.name
        for p in signature.parameters.values()
        if p.default is inspect.Parameter.empty
        and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
        and p.name not in kwargs
    ]
    if missing:
        raise Unavailable(f"{name} needs {', '.join(missing)}, which automation cannot supply")
    return fn(**kwargs)


def label_model() -> Any | None:
    try:
        from inbox import models
    except ImportError:  # pragma: no cover
        return None
    return getattr(models, "Label", None)


def conversation_label_names(conversation: Any) -> frozenset[str] | None:
    """The names of the conversation's labels, or None while inbox has no labels."""
    from inbox import models

    link = getattr(models, "ConversationLabel", None)
    if link is None:
        return None
    try:
        return frozenset(link.objects.filter(conversation=conversation).values_list("label__name", flat=True))
    except Exception:  # noqa: BLE001 - a schema we did not anticipate must not stop auto-replies
        return None


def recent_label_links(conversation_id: int, *, since: Any) -> list[tuple[int, str]]:
    """``(link id, label name)`` of the labels put on the conversation since ``since`` ([] without labels)."""
    from inbox import models

    link = getattr(models, "ConversationLabel", None)
    if link is None:
        return []
    try:
        rows = link.objects.filter(conversation_id=conversation_id, added_at__gte=since).values_list(
            "id", "label__name"
        )
        return [(row_id, name) for row_id, name in rows]
    except Exception:  # noqa: BLE001 - a schema we did not anticipate must not stop auto-replies
        return []
