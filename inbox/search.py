"""Search over messages and contacts.

On PostgreSQL: messages carry a stored ``search_vector`` (a generated ``tsvector`` column with a GIN index,
added by migration 0003 outside the Django model so SQLite keeps working), and contact names and phones have
pg_trgm GIN indexes, so ``ILIKE '%term%'`` on them is an index scan. On SQLite: plain ``icontains``.

The ``simple`` text-search configuration is used on purpose: customers write in many languages (Indonesian,
Thai, English) and a stemmer for one of them would mangle the others. Thai has no spaces between words, so
full-text matching there works on whole phrases only; the trigram indexes catch names and phones.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

from inbox.models import Contact, Conversation, Message
from inbox.permissions import mask_phone

# Ranking is computed on at most this many of the newest matching messages ("only top candidates").
CANDIDATES = 500


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _contact_ids(text: str, organization_id: int | None, *, include_pii: bool = True) -> QuerySet:
    # Without permission to see phones and emails, matching on them would reveal them digit by digit.
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
        matching = "SELECT id FROM inbox_message WHERE search_vector @@ websearch_to_tsquery('simple', %s)"
        candidates = list(
            messages.filter(id__in=RawSQL(matching, [text]))  # noqa: S611 (constant SQL, text is a parameter)
            .order_by("-id")
            .values_list("id", flat=True)[:CANDIDATES]
        )
        ranked = (
            Message.objects.filter(id__in=candidates)
            .annotate(rank=RawSQL("ts_rank(search_vector, websearch_to_tsquery('simple', %s))", [text]))  # noqa: S611
            .order_by("-rank", "-id")
        )
    else:
        ranked = messages.filter(body__icontains=text).order_by("-id")
    rows = ranked.select_related("conversation__contact", "conversation__channel")[:limit]
    return [
        {
            "message_id": m.pk,
            "conversation_id": m.conversation_id,
            "contact_name": m.conversation.contact.name or "Customer",
            "channel_kind": m.conversation.channel.kind,
            "body": m.body[:200],
            "created_at": m.created_at,
        }
        for m in rows
    ]


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
        }
        for c in rows
    ]
