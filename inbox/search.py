"""Search over messages and contacts.

On PostgreSQL: messages carry a stored ``search_vector`` (a generated ``tsvector`` column with a GIN index,
added by migration 0003 outside the Django model so SQLite keeps working), and contact names and phones have
pg_trgm GIN indexes, so ``ILIKE '%term%'`` on them is an index scan. On SQLite: plain ``icontains``.

The ``simple`` text-search configuration is used on purpose: customers write in many languages (Indonesian,
Thai, English) and a stemmer for one of them would mangle the others. Thai has no spaces between words, so
full-text matching there works on whole phrases only; the trigram indexes catch names and phones.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL

from inbox.models import Contact, Conversation, Message
from inbox.permissions import mask_phone

# Ranking is computed on at most this many of the newest matching messages ("only top candidates").
CANDIDATES = 500
# A term with at most this many matching messages counts as selective (see search_messages).
PROBE = 5000


SNIPPET = 120


def snippet(body: str, text: str, width: int = SNIPPET) -> tuple[str, list[list[int]]]:
    """A window of ``body`` around the first word of ``text`` found, and where the words are in it.

    Highlights are ``[start, end)`` character ranges into the snippet (browsers wrap them in ``<mark>`` with
    text nodes, so nothing here is HTML and nothing a customer wrote can inject markup).
    """
    words = [w for w in re.findall(r"\w+", text.lower()) if w] or [text.lower().strip()]
    lowered = body.lower()
    found = [i for i in (lowered.find(w) for w in words if w) if i >= 0]
    start = max(0, min(found) - width // 3) if found else 0
    if start:  # begin on a word boundary
        space = body.find(" ", start)
        start = space + 1 if 0 <= space < start + 20 else start
    window = body[start : start + width]
    prefix = "…" if start else ""
    suffix = "…" if start + width < len(body) else ""
    shown = prefix + window + suffix
    lowered_shown = shown.lower()
    ranges: list[list[int]] = []
    for word in words:
        for match in re.finditer(re.escape(word), lowered_shown):
            ranges.append([match.start(), match.end()])
    ranges.sort()
    merged: list[list[int]] = []
    for low, high in ranges:
        if merged and low <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    return shown, merged


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _contact_ids(text: str, organization_id: int | None, *, include_pii: bool = True) -> QuerySet | RawSQL:
    # Without permission to see phones and emails, matching on them would reveal them digit by digit.
    if is_postgres():
        # ILIKE on the plain columns, which the pg_trgm indexes serve; Django's icontains is UPPER(col) LIKE
        # UPPER(term), which no index serves (a full scan of the contacts at a million of them).
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        columns = ("name", "phone", "email") if include_pii else ("name",)
        where = " OR ".join(f"{column} ILIKE %s" for column in columns)
        sql = f"SELECT id FROM inbox_contact WHERE ({where})"  # noqa: S608 (column names are constants)
        params: list[Any] = [pattern] * len(columns)
        if organization_id is not None:
            sql += " AND organization_id = %s"
            params.append(organization_id)
        return RawSQL(sql, params)  # noqa: S611 (constant SQL, the term is a parameter)
    match = Q(name__icontains=text) | Q(phone__icontains=text) | Q(email__icontains=text)
    contacts = Contact.objects.filter(match if include_pii else Q(name__icontains=text))
    if organization_id is not None:
        contacts = contacts.filter(organization_id=organization_id)
    return contacts.values("id")


def text_q(text: str, *, organization_id: int | None, include_pii: bool = True) -> Q:
    """Conversations whose contact or any message matches ``text`` (a Q over Conversation)."""
    if is_postgres():
        matching_messages = RawSQL(  # noqa: S611 (constant SQL, text is a parameter)
            "SELECT conversation_id FROM inbox_message WHERE search_vector @@ websearch_to_tsquery('simple', %s)",
            [text],
        )
    else:
        matching_messages = Message.objects.filter(body__icontains=text).values("conversation_id")
    return Q(contact_id__in=_contact_ids(text, organization_id, include_pii=include_pii)) | Q(id__in=matching_messages)


def search_messages(*, conversations: QuerySet[Conversation], text: str, limit: int = 20) -> list[dict[str, Any]]:
    """Best-matching messages among ``conversations`` (already scoped to what the user may see).

    PostgreSQL: the newest ``CANDIDATES`` matches by the GIN index, ranked with ``ts_rank``; SQLite: newest
    ``icontains`` matches.
    """
    text = text.strip()
    if not text:
        return []
    visible = conversations.values("id")
    messages = Message.objects.filter(conversation_id__in=visible)
    if is_postgres():
        # The match as a condition on the message row (``id IN (SELECT id ... @@ ...)`` made the planner walk the
        # whole table: 10 s at 10M messages). Whether the newest matches come from the GIN index or from walking
        # the newest messages depends on how common the term is, which the planner misjudges when rare words
        # are not in its statistics; so ask the index first, with a bound. A selective term (at most PROBE
        # matches) ranks among all its matches; a common one among the newest CANDIDATES, found by the walk.
        matches = RawSQL(  # noqa: S611 (constant SQL, text is a parameter)
            "search_vector @@ websearch_to_tsquery('simple', %s)", [text], output_field=BooleanField()
        )
        probe = list(Message.objects.filter(matches).values_list("id", flat=True)[: PROBE + 1])
        selected = messages.filter(id__in=probe) if len(probe) <= PROBE else messages.filter(matches)
        candidates = list(selected.order_by("-id").values_list("id", flat=True)[:CANDIDATES])
        ranked = (
            Message.objects.filter(id__in=candidates)
            .annotate(rank=RawSQL("ts_rank(search_vector, websearch_to_tsquery('simple', %s))", [text]))  # noqa: S611
            .order_by("-rank", "-id")
        )
    else:
        ranked = messages.filter(body__icontains=text).order_by("-id")
    rows = ranked.values(
        "id", "conversation_id", "conversation__contact__name", "conversation__channel__kind", "body", "created_at"
    )[:limit]
    results = []
    for m in rows:
        shown, highlights = snippet(m["body"], text)
        results.append(
            {
                "message_id": m["id"],
                "conversation_id": m["conversation_id"],
                "contact_name": m["conversation__contact__name"] or "Customer",
                "channel_kind": m["conversation__channel__kind"],
                "body": m["body"][:200],
                "snippet": shown,
                "highlights": highlights,
                "created_at": m["created_at"],
            }
        )
    return results


def search_contacts(
    *, conversations: QuerySet[Conversation], text: str, limit: int = 20, include_pii: bool = True
) -> list[dict[str, Any]]:
    """Conversations whose contact name, phone or email matches, newest activity first.

    ``include_pii=False`` (viewer without ``see_contact_pii``): matches names only and masks the phone.
    """
    text = text.strip()
    if not text:
        return []
    rows = (
        conversations.filter(contact_id__in=_contact_ids(text, None, include_pii=include_pii))
        .select_related("contact", "channel")
        .order_by("-last_message_at", "-id")[:limit]
    )
    return [
        {
            "conversation_id": c.pk,
            "contact_name": c.contact.name or "Customer",
            "phone": c.contact.phone if include_pii else mask_phone(c.contact.phone),
            "channel_kind": c.channel.kind,
            "status": c.status,
            "last_message_at": c.last_message_at,
        }
        for c in rows
    ]
