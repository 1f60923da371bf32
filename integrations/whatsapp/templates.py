"""WhatsApp message templates: the account's list as Graph answers it, and the body of a template send.

List: ``GET /{version}/{waba-id}/message_templates?fields=name,language,status,category,components&limit=N``
answers ``{"data": [{"name", "language", "status", "category", "components": [{"type": "BODY", "text":
"Hi {{1}}"}, ...], "id"}], "paging": {"cursors": {"before", "after"}, "next"?}}``; the last page has no
``next``. Send: ``{"type": "template", "template": {"name", "language": {"code"}, "components": [{"type":
"body", "parameters": [{"type": "text", "text"}]}]}}``.
Documentation: https://developers.facebook.com/docs/graph-api/reference/whats-app-business-account/message_templates/
and https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-message-templates
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from integrations.channels.base import MessageTemplate, SendError

LIST_FIELDS = "name,language,status,category,components"
PAGE_SIZE = 100
MAX_PAGES = 50  # 5,000 templates: far past WhatsApp's per-account limit, and a guard against a paging loop
MAX_PARAMETER_LENGTH = 1024
_PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")


def parse_template(item: Any) -> MessageTemplate | None:
    """One entry of ``data``, or ``None`` when it lacks a name or a language (nothing could send it)."""
    if not isinstance(item, Mapping):
        return None
    name, language = item.get("name"), item.get("language")
    if not isinstance(name, str) or not name or not isinstance(language, str) or not language:
        return None
    components = tuple(c for c in item.get("components") or () if isinstance(c, Mapping))
    body = next((c for c in components if str(c.get("type", "")).upper() == "BODY"), {})
    text = body.get("text") if isinstance(body.get("text"), str) else ""
    numbers = {int(n) for n in _PLACEHOLDER.findall(text)}
    return MessageTemplate(
        name=name[:512],
        language=language[:20],
        status=str(item.get("status") or "").upper()[:20],
        category=str(item.get("category") or "").upper()[:40],
        body_text=text,
        body_parameter_count=max(numbers, default=0),
        components=tuple(dict(c) for c in components),
    )


def parse_page(answer: Mapping[str, Any]) -> tuple[list[MessageTemplate], str]:
    """The templates of one page and the ``after`` cursor of the next one ("" on the last page)."""
    data = answer.get("data")
    templates = [t for t in (parse_template(item) for item in data) if t] if isinstance(data, list) else []
    paging = answer.get("paging") if isinstance(answer.get("paging"), Mapping) else {}
    cursors = paging.get("cursors") if isinstance(paging.get("cursors"), Mapping) else {}
    after = cursors.get("after")
    # Graph leaves "next" out on the last page even though the cursors are still there.
    more = bool(paging.get("next")) and isinstance(after, str) and bool(after)
    return templates, after if more else ""


def template_object(template: Mapping[str, Any]) -> dict[str, Any]:
    """``{"name", "language": "en_US" | {"code"}, "body_parameters"?: [...], "components"?: [...]}`` -> the
    documented ``template`` object of a send, or :class:`SendError` for what WhatsApp would refuse."""
    name = template.get("name")
    language = template.get("language")
    code = language.get("code") if isinstance(language, Mapping) else language
    if not isinstance(name, str) or not name:
        raise SendError("the template has no name")
    if not isinstance(code, str) or not code:
        raise SendError(f"the template {name!r} has no language code")
    result: dict[str, Any] = {"name": name, "language": {"code": code}}
    components = list(template.get("components") or ())
    parameters = template.get("body_parameters") or ()
    if parameters:
        for value in parameters:
            if not isinstance(value, str) or not value.strip():
                raise SendError(f"the template {name!r} has an empty variable")
            if len(value) > MAX_PARAMETER_LENGTH:
                raise SendError(f"a variable of the template {name!r} is longer than {MAX_PARAMETER_LENGTH} characters")
        components.append({"type": "body", "parameters": [{"type": "text", "text": v} for v in parameters]})
    if components:
        result["components"] = components
    return result
