"""Selectors read: querysets scoped by the permission policy, and the dicts sent to browsers."""

from __future__ import annotations

import base64
import copy
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery, TextField
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext

from inbox import filters, permissions, sql_templates
from inbox.models import (
    Channel,
    Contact,
    ContactIdentity,
    Conversation,
    ConversationRead,
    Label,
    Membership,
    Message,
    Note,
    Team,
)


def message_preview(message: Message) -> str:
    return (message.body or f"[{message.kind}]")[:160]


def message_as_dict(message: Message) -> dict[str, Any]:
    return {
        "id": message.pk,
        "conversation_id": message.conversation_id,
        "channel_id": message.channel_id,
        "direction": message.direction,
        "sender_type": message.sender_type,
        "sender_name": message.sender_user.get_username() if message.sender_user_id else "",
        "kind": message.kind,
        "body": message.body,
        "attachments": message.attachments,
        "status": message.status,
        "error_reason": message.error_reason,
        "created_at": message.created_at,
    }


def label_as_dict(label: Label) -> dict[str, Any]:
    return {"id": label.pk, "name": label.name, "colour": label.colour, "description": label.description}


def _user_name(user: Any) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else ""


def automation_label(rule_name: str, version: int) -> str:
    """How the inbox names a rule that acted (thread, API, live events, audit log): "Automation: <rule> v<n>"."""
    return gettext("Automation: %(rule)s v%(version)s") % {"rule": rule_name, "version": version}


def _note_author_name(note: Note) -> str:
    automation = (note.metadata or {}).get("automation")
    if note.author_id is None and automation:
        return automation_label(automation.get("rule_name", ""), automation.get("version", 0))
    return _user_name(note.author)


def conversation_as_dict(conversation: Conversation) -> dict[str, Any]:
    """What browsers and subscribers see of a conversation.

    ``labels``, ``assignee_name`` and ``team_name`` are included when already loaded (prefetched or selected);
    the message path does not load them, so ingest pays no extra query, and browsers keep what they had.
    """
    data: dict[str, Any] = {
        "id": conversation.pk,
        "channel_id": conversation.channel_id,
        "channel_kind": conversation.channel.kind,
        "channel_name": conversation.channel.name,
        "contact_name": conversation.contact.name or conversation.identity.display_name or "Customer",
        "status": conversation.status,
        "snoozed_until": conversation.snoozed_until,
        "priority": conversation.priority,
        "assignee_id": conversation.assignee_id,
        "team_id": conversation.team_id,
        "unread_count": conversation.unread_count,
        "last_inbound_message_id": conversation.last_inbound_message_id,
        "last_message_at": conversation.last_message_at,
        "preview": conversation.last_message_preview,
        "tracking_id": conversation.tracking_id,
        "campaign_id": conversation.campaign_id,
    }
    if Conversation.assignee.is_cached(conversation):
        data["assignee_name"] = _user_name(conversation.assignee)
    if Conversation.team.is_cached(conversation):
        data["team_name"] = conversation.team.name if conversation.team else ""
    prefetched = getattr(conversation, "_prefetched_objects_cache", {})
    if "labels" in prefetched:
        data["labels"] = [label_as_dict(label) for label in prefetched["labels"]]
    if hasattr(conversation, "my_unread_count"):
        data["unread_count"] = conversation.my_unread_count
    return data


def conversation_detail_dict(conversation: Conversation) -> dict[str, Any]:
    """``conversation_as_dict`` plus the fields the REST API has always returned."""
    data = conversation_as_dict(conversation)
    data.update(
        last_inbound_at=conversation.last_inbound_at, ad_id=conversation.ad_id, created_at=conversation.created_at
    )
    return data


def conversation_list(*, user: Any, status: str | None = None, channel_id: int | None = None) -> QuerySet[Conversation]:
    """Conversations the user may see, most recent first (indexed on organization, status, time)."""
    conversations = permissions.visible_conversations(user).select_related("channel", "contact", "identity")
    if status:
        conversations = conversations.filter(status=status)
    if channel_id:
        conversations = conversations.filter(channel_id=channel_id)
    return conversations.order_by("-last_message_at", "-id")


# --- the list page: filter language + keyset pagination -----------------------------------------------------

PAGE_SIZE = 50


@dataclass(frozen=True)
class ConversationPage:
    conversations: list[Conversation]
    next_cursor: str | None


def encode_cursor(conversation: Conversation) -> str:
    raw = f"{conversation.last_message_at.isoformat()}|{conversation.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """The (last_message_at, id) a page continues after; ``FilterError`` for a cursor we did not make."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, pk = raw.split("|")
        parsed = datetime.fromisoformat(moment)
        return parsed, int(pk)
    except (ValueError, UnicodeDecodeError) as exc:
        raise filters.FilterError(gettext("cursor: not a cursor this server returned")) from exc


def after_cursor(conversations: QuerySet[Conversation], cursor: str) -> QuerySet[Conversation]:
    """Conversations after ``cursor`` in (last_message_at, id) descending order.

    The redundant ``last_message_at <= moment`` is what the index range starts at: the OR alone is only a filter,
    and PostgreSQL would walk every row of the earlier pages to reach it.
    """
    return after_position(conversations, *decode_cursor(cursor))


def after_position(conversations: QuerySet[Conversation], moment: datetime, pk: int) -> QuerySet[Conversation]:
    """``after_cursor`` for a cursor already decoded."""
    return conversations.filter(
        Q(last_message_at__lt=moment) | Q(last_message_at=moment, id__lt=pk), last_message_at__lte=moment
    )


def with_my_unread(conversations: QuerySet[Conversation], user: Any) -> QuerySet[Conversation]:
    """Annotate ``my_unread_count``: customer messages newer than what ``user`` has read (one subquery each)."""
    read_up_to = ConversationRead.objects.filter(conversation_id=OuterRef("pk"), user_id=user.pk).values(
        "last_read_message_id"
    )[:1]
    unread = (
        Message.objects.filter(
            conversation_id=OuterRef("pk"), direction=Message.Direction.INBOUND, id__gt=OuterRef("my_last_read")
        )
        .order_by()
        .values("conversation_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return conversations.annotate(my_last_read=Coalesce(Subquery(read_up_to), 0)).annotate(
        my_unread_count=Coalesce(Subquery(unread), 0)
    )


def conversation_queryset(*, user: Any, document: Any = None, context: filters.FilterContext | None = None):
    """Visible conversations narrowed by a filter document (not yet ordered or paginated)."""
    context = context or filters.filter_context(user)
    visible = permissions.conversations_visible_to(context.membership)
    return filters.apply_filter(visible, document, context=context)


def conversation_page(
    *, user: Any, document: Any = None, cursor: str | None = None, limit: int = PAGE_SIZE, ids: list[int] | None = None
) -> ConversationPage:
    """One page of the conversations ``user`` may see that match ``document``, newest activity first.

    Keyset pagination on the indexed ``(last_message_at, id)``; the number of queries is the same for any page
    size and any number of labels (membership, teams, the page, its labels). ``ids`` restricts the page to
    those conversations (how the browser asks whether changed conversations still match its filter).
    """
    conversations = conversation_queryset(user=user, document=document)
    if cursor:
        conversations = after_cursor(conversations, cursor)
    if ids is not None:
        conversations = conversations.filter(id__in=ids[:PAGE_SIZE])
    rows = list(
        with_my_unread(conversations, user)
        .select_related("channel", "contact", "identity", "assignee", "team")
        .prefetch_related(Prefetch("labels", queryset=Label.objects.order_by("name")))
        .order_by("-last_message_at", "-id")[: limit + 1]
    )
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return ConversationPage(rows[:limit], next_cursor)


@dataclass(frozen=True)
class RowPage:
    rows: list[dict[str, Any]]
    next_cursor: str | None


_ROW_FIELDS = (
    "id",
    "channel_id",
    "status",
    "snoozed_until",
    "priority",
    "assignee_id",
    "team_id",
    "last_inbound_message_id",
    "last_message_at",
    "last_message_preview",
    "tracking_id",
    "campaign_id",
    "last_inbound_at",
    "ad_id",
    "created_at",
    "my_unread_count",
)


def _name_of(model: Any, field: str, foreign_key: str) -> Subquery:
    return Subquery(model.objects.filter(pk=OuterRef(foreign_key)).values(field)[:1])


def _display_columns() -> dict[str, Subquery]:
    """The names each row shows, as one scalar subquery each rather than five joins.

    With the joins, PostgreSQL searched every join order of eight relations (the five, the permission semi-join,
    the filter's anti-joins) before each page: 5-50 ms of planning at a million conversations for 2 ms of
    execution. Subqueries in the select list are planned on their own and run for the page's rows only.
    """
    user = get_user_model()
    return {
        "channel_kind": _name_of(Channel, "kind", "channel_id"),
        "channel_name": _name_of(Channel, "name", "channel_id"),
        "contact_name": _name_of(Contact, "name", "contact_id"),
        "identity_display_name": _name_of(ContactIdentity, "display_name", "identity_id"),
        "assignee_username": _name_of(user, "username", "assignee_id"),
        "assignee_first_name": _name_of(user, "first_name", "assignee_id"),
        "assignee_last_name": _name_of(user, "last_name", "assignee_id"),
        "team_name": _name_of(Team, "name", "team_id"),
    }


@dataclass(frozen=True)
class _PageInputs:
    """Everything one list page's SQL is built from (``_page_queryset``)."""

    membership: Any
    user: Any
    context: filters.FilterContext
    document: dict[str, Any]  # cleaned by ``filters.parse_filter``
    after: tuple[datetime, int] | None  # the decoded cursor
    ids: list[int] | None
    limit: int


def _labels_column() -> RawSQL:
    """Each row's labels as JSON text ``[[id, name, colour, description], ...]`` by name: no second query."""
    if connection.vendor == "postgresql":
        sql = (
            "SELECT json_agg(json_build_array(sb_l.id, sb_l.name, sb_l.colour, sb_l.description)"
            " ORDER BY sb_l.name, sb_l.id)::text"
            " FROM inbox_conversationlabel sb_cl JOIN inbox_label sb_l ON sb_l.id = sb_cl.label_id"
            ' WHERE sb_cl.conversation_id = "inbox_conversation"."id"'
        )
    else:  # SQLite, the embedded default: json_group_array keeps the order of the subquery's rows
        sql = (
            "SELECT json_group_array(json_array(id, name, colour, description)) FROM (SELECT sb_l.id, sb_l.name,"
            " sb_l.colour, sb_l.description FROM inbox_conversationlabel sb_cl JOIN inbox_label sb_l"
            ' ON sb_l.id = sb_cl.label_id WHERE sb_cl.conversation_id = "inbox_conversation"."id"'
            " ORDER BY sb_l.name, sb_l.id)"
        )
    return RawSQL(f"({sql})", (), output_field=TextField())  # noqa: S611 (constant text, no input in it)


def _labels_of(column: str | None) -> list[dict[str, Any]]:
    if not column:
        return []
    return [
        {"id": label_id, "name": name, "colour": colour, "description": description}
        for label_id, name, colour, description in json.loads(column)
    ]


def _page_queryset(inputs: _PageInputs) -> QuerySet:
    """The page as a ``values()`` queryset: visible, filtered, after the cursor, newest first, labels included."""
    conversations = permissions.conversations_visible_to(inputs.membership)
    q = filters.compile_parsed(inputs.document, context=inputs.context)
    if q:
        conversations = conversations.filter(q)
    if inputs.after is not None:
        conversations = after_position(conversations, *inputs.after)
    if inputs.ids is not None:
        conversations = conversations.filter(id__in=inputs.ids)
    display = _display_columns()
    return (
        with_my_unread(conversations, inputs.user)
        .annotate(label_rows=_labels_column(), **display)
        .order_by("-last_message_at", "-id")
        .values(*_ROW_FIELDS, *display, "label_rows")[: inputs.limit + 1]
    )


# --- the page's SQL, compiled once per shape (issue 4) ---------------------------------------------------------
#
# Django takes longer to build and compile the page's queryset than PostgreSQL takes to answer it, and pages of one
# shape compile to the same SQL with other parameters: ``inbox.sql_templates`` explains how a template is learned
# and checked. The shape's key holds the member (a template is only reused for the same membership), what the
# permission policy builds its SQL from, the filter's conditions and list lengths, the cursor and ``ids`` lengths
# and the page size. Every id, moment and text the SQL receives is a parameter bound again for each request.


class _StandInUser:
    def __init__(self, pk: int) -> None:
        self.pk = pk


class _StandIns:
    """Distinct values of every kind for one probe compile; ``probe`` 0 and 1 never share a value."""

    def __init__(self, probe: int) -> None:
        self.probe = probe
        self.count = 0
        self.now = datetime(2400 + 100 * probe, 1, 1, tzinfo=UTC)

    def __call__(self, kind: str, value: Any) -> Any:
        self.count += 1
        n, p = self.count, self.probe
        if kind == "id":  # within int4, as the real id was (user ids are int4 columns)
            return 1_000_000_000 + 400_000_000 * p + 7 * n
        if kind == "bigid":
            return 2**40 * (1 + p) + 7 * n
        if kind == "text":
            return f"~stand-in-{p}-{n}~"
        if kind == "moment":
            return datetime(2200 + 100 * p, 1, 1, tzinfo=UTC) + timedelta(seconds=n)
        if kind in ("days", "minutes"):  # at most ~1.4 days of minutes: never equal to a whole-days bound
            return 3 + p + 2 * n
        raise ValueError(f"unknown kind {kind!r}")


def _permission_shape(membership: Any) -> tuple[Any, ...]:
    """What ``permissions.conversations_visible_to`` builds its SQL from besides ids (which are parameters)."""
    return (
        membership.role,
        membership.is_active,
        permissions.only_assigned(membership),
        tuple(sorted(permissions.membership_permissions(membership))),
    )


def _walk_page(inputs: _PageInputs, stand_ins: _StandIns | None = None) -> tuple[_PageInputs, filters.ShapeWalk]:
    """The page's shape and values; with ``stand_ins``, also the inputs of a probe compile of the same shape."""
    membership, context = inputs.membership, inputs.context
    walk = filters.ShapeWalk(now=stand_ins.now if stand_ins else context.now, stand_in=stand_ins)
    walk.literal((connection.alias, membership.pk, _permission_shape(membership), inputs.limit))
    user_pk = walk.leaf("id", inputs.user.pk)
    organization_id = walk.leaf("id", membership.organization_id)
    membership_pk = walk.leaf("id", membership.pk)
    document = walk.document(inputs.document)
    team_ids: tuple[int, ...] = ()
    if walk.uses_my_teams:
        walk.literal("my teams")
        team_ids = tuple(walk.leaves("id", list(context.team_ids)))
    after = None
    if inputs.after is not None:
        walk.literal("after")
        after = (walk.leaf("moment", inputs.after[0]), walk.leaf("id", inputs.after[1]))
    ids = None
    if inputs.ids is not None:
        walk.literal("ids")
        ids = walk.leaves("id", inputs.ids)
    if stand_ins is None:
        return inputs, walk
    probe_membership = copy.copy(membership)  # keeps the role, access and custom role already loaded
    probe_membership.pk, probe_membership.organization_id = membership_pk, organization_id
    probe_membership.user_id = user_pk
    user = _StandInUser(user_pk)
    probe_context = filters.FilterContext(
        user=user, organization_id=organization_id, now=walk.now, membership=probe_membership, fixed_team_ids=team_ids
    )
    return _PageInputs(probe_membership, user, probe_context, document, after, ids, inputs.limit), walk


_UNKNOWN = object()
_PAGE_TEMPLATES: dict[tuple[Any, ...], sql_templates.QueryTemplate | None] = {}  # None: compile each time
PAGE_TEMPLATES_MAX = 2048


def clear_page_templates() -> None:
    """Forget every learned page template (tests that change how the page is built)."""
    _PAGE_TEMPLATES.clear()


def _compiled_once(inputs: _PageInputs) -> list[dict[str, Any]]:
    return sql_templates.QueryTemplate.constant(sql_templates.compile_values(_page_queryset(inputs))).rows(())


def _page_rows(inputs: _PageInputs) -> list[dict[str, Any]]:
    """The page's rows (``values()`` dicts plus ``label_rows``), from its shape's template when there is one."""
    membership = inputs.membership
    if membership is None or membership.user_id != getattr(inputs.user, "pk", None):
        return _compiled_once(inputs)
    try:
        _, walk = _walk_page(inputs)
    except filters.Uncacheable:  # free text, another app's condition, an id out of range
        return _compiled_once(inputs)
    key = tuple(walk.tokens)
    template = _PAGE_TEMPLATES.get(key, _UNKNOWN)
    if template is None:
        return _compiled_once(inputs)
    if template is _UNKNOWN:
        probe_a, probe_b = _walk_page(inputs, _StandIns(0)), _walk_page(inputs, _StandIns(1))
        answer, verdict = sql_templates.learn(
            _page_queryset, (inputs, walk.values), ((probe_a[0], probe_a[1].values), (probe_b[0], probe_b[1].values))
        )
        if verdict is not sql_templates.Verdict.NOT_NOW:
            if len(_PAGE_TEMPLATES) >= PAGE_TEMPLATES_MAX:
                _PAGE_TEMPLATES.clear()
            _PAGE_TEMPLATES[key] = answer if verdict is sql_templates.Verdict.REUSE else None
        return answer.rows(walk.values)
    return template.rows(walk.values)


def _page_values(
    *, user: Any, document: Any, cursor: str | None, limit: int, ids: list[int] | None
) -> tuple[list[dict[str, Any]], dict[int, list[dict[str, Any]]], str | None]:
    """One page as ``values()`` rows, each conversation's labels (by name), and the next page's cursor."""
    context = filters.filter_context(user)
    document = filters.parse_filter(document)
    after = None
    if cursor:
        moment, pk = decode_cursor(cursor)
        # Django makes a naive moment aware (with a warning) when it is a parameter: the same, before the template
        after = (moment if timezone.is_aware(moment) else timezone.make_aware(moment), pk)
    inputs = _PageInputs(
        context.membership, user, context, document, after, ids[:PAGE_SIZE] if ids is not None else None, limit
    )
    raw = _page_rows(inputs)
    next_cursor = None
    if len(raw) > limit:
        last = raw[limit - 1]
        moment = last["last_message_at"].isoformat()
        next_cursor = base64.urlsafe_b64encode(f"{moment}|{last['id']}".encode()).decode().rstrip("=")
        raw = raw[:limit]
    labels = {row["id"]: _labels_of(row.pop("label_rows")) for row in raw}
    return raw, labels, next_cursor


def _assignee_name(r: dict[str, Any]) -> str:
    if r["assignee_id"] is None:
        return ""
    full = f"{r['assignee_first_name']} {r['assignee_last_name']}".strip()
    return full or r["assignee_username"]


def conversation_rows(
    *, user: Any, document: Any = None, cursor: str | None = None, limit: int = PAGE_SIZE, ids: list[int] | None = None
) -> RowPage:
    """``conversation_page`` as the dicts the REST API answers (``conversation_detail_dict``'s shape), built fast.

    Plain rows instead of five model instances per conversation, the labels in the same query, and SQL compiled
    once per shape (``_page_rows``): at a million conversations the SQL takes a few milliseconds, and building
    model instances, then compiling the queryset, were most of the time. Same filters, order and cursor as
    ``conversation_page``; two queries whatever the page holds (the membership, the page).
    """
    raw, labels, next_cursor = _page_values(user=user, document=document, cursor=cursor, limit=limit, ids=ids)
    rows = [
        {
            "id": r["id"],
            "channel_id": r["channel_id"],
            "channel_kind": r["channel_kind"],
            "channel_name": r["channel_name"],
            "contact_name": r["contact_name"] or r["identity_display_name"] or "Customer",
            "status": r["status"],
            "snoozed_until": r["snoozed_until"],
            "priority": r["priority"],
            "assignee_id": r["assignee_id"],
            "team_id": r["team_id"],
            "unread_count": r["my_unread_count"],
            "last_inbound_message_id": r["last_inbound_message_id"],
            "last_message_at": r["last_message_at"],
            "preview": r["last_message_preview"],
            "tracking_id": r["tracking_id"],
            "campaign_id": r["campaign_id"],
            "assignee_name": _assignee_name(r),
            "team_name": r["team_name"] or "",
            "labels": labels[r["id"]],
            "last_inbound_at": r["last_inbound_at"],
            "ad_id": r["ad_id"],
            "created_at": r["created_at"],
        }
        for r in raw
    ]
    return RowPage(rows, next_cursor)


_KIND_LABELS = dict(Channel.Kind.choices)
_STATUS_LABELS = dict(Conversation.Status.choices)
_PRIORITY_LABELS = dict(Conversation.Priority.choices)


class _Related:
    """A related object of a list item: its fields as attributes, ``display`` methods as callables."""

    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)


class ConversationListItem:
    """One conversation of the inbox page's list, from ``values()`` rows (no model instances built).

    Offers what ``templates/inbox/_conversation_item.html`` reads of a ``Conversation``: ``pk``, ``contact.name``,
    ``identity.display_name``, ``channel.kind``/``get_kind_display``, ``assignee.get_username``, ``labels.all``,
    ``my_unread_count`` and the plain fields with their ``get_..._display``.
    """

    def __init__(self, r: dict[str, Any], labels: list[dict[str, Any]]) -> None:
        self.pk = self.id = r["id"]
        self.channel_id, self.status, self.priority = r["channel_id"], r["status"], r["priority"]
        self.assignee_id, self.team_id = r["assignee_id"], r["team_id"]
        self.last_message_at, self.last_message_preview = r["last_message_at"], r["last_message_preview"]
        self.snoozed_until, self.my_unread_count = r["snoozed_until"], r["my_unread_count"]
        self.tracking_id, self.campaign_id = r["tracking_id"], r["campaign_id"]
        kind = r["channel_kind"]
        self.channel = _Related(
            id=r["channel_id"],
            kind=kind,
            name=r["channel_name"],
            get_kind_display=lambda: _KIND_LABELS.get(kind, kind),
        )
        self.contact = _Related(name=r["contact_name"])
        self.identity = _Related(display_name=r["identity_display_name"])
        username = r["assignee_username"]
        self.assignee = (
            _Related(id=r["assignee_id"], username=username, get_username=lambda: username, name=_assignee_name(r))
            if r["assignee_id"] is not None
            else None
        )
        self.team = _Related(id=r["team_id"], name=r["team_name"]) if r["team_id"] is not None else None
        label_items = [_Related(**label) for label in labels]
        self.labels = _Related(all=lambda: label_items)

    # The choices' lazy labels, as a model's ``get_..._display`` returns them (templates translate them).
    def get_status_display(self) -> Any:
        return _STATUS_LABELS.get(self.status, self.status)

    def get_priority_display(self) -> Any:
        return _PRIORITY_LABELS.get(self.priority, self.priority)


@dataclass(frozen=True)
class ListPage:
    conversations: list[ConversationListItem]
    next_cursor: str | None


def conversation_list_items(
    *, user: Any, document: Any = None, cursor: str | None = None, limit: int = PAGE_SIZE
) -> ListPage:
    """The inbox page's list: ``conversation_rows``' queries, as objects its templates can read."""
    raw, labels, next_cursor = _page_values(user=user, document=document, cursor=cursor, limit=limit, ids=None)
    return ListPage([ConversationListItem(r, labels[r["id"]]) for r in raw], next_cursor)


def conversation_count(*, user: Any, document: Any, cap: int = 1000, context: Any = None) -> int:
    """How many visible conversations match, counted up to ``cap`` (the sidebar shows "999+")."""
    return conversation_queryset(user=user, document=document, context=context).order_by().values("id")[:cap].count()


def conversation_get(*, user: Any, conversation_id: int) -> Conversation:
    """One conversation the user may see; ``Conversation.DoesNotExist`` otherwise (never reveal existence)."""
    return (
        permissions.visible_conversations(user)
        .select_related("channel", "contact", "identity", "assignee", "team")
        .prefetch_related("labels")
        .get(pk=conversation_id)
    )


def message_list(*, conversation: Conversation, after_id: int | None = None, limit: int = 200) -> list[Message]:
    messages = conversation.messages.select_related("sender_user").order_by("-id")
    if after_id:
        messages = messages.filter(id__gt=after_id)
    return list(reversed(messages[:limit]))


def note_as_dict(note: Note) -> dict[str, Any]:
    return {
        "id": note.pk,
        "conversation_id": note.conversation_id,
        "author_id": note.author_id,
        "author_name": _note_author_name(note),
        "body": note.body,
        "mentions": [user.get_username() for user in note.mentions.all()],
        "created_at": note.created_at,
    }


def thread_items(*, conversation: Conversation, limit: int = 200) -> list[tuple[str, Message | Note]]:
    """The thread as shown: the last messages and the private notes among them, oldest first."""
    messages = message_list(conversation=conversation, limit=limit)
    notes = conversation.notes.select_related("author").prefetch_related("mentions").order_by("-id")
    if messages:
        notes = notes.filter(created_at__gte=messages[0].created_at)
    items: list[tuple[str, Message | Note]] = [("message", m) for m in messages]
    items += [("note", n) for n in notes[:limit]]
    items.sort(key=lambda item: (item[1].created_at, item[0] == "note"))
    return items


def contact_sidebar(*, user: Any, conversation: Conversation) -> dict[str, Any]:
    """The contact pane: identities on each channel, conversations across channels (that the user may see)."""
    contact = conversation.contact
    history = (
        permissions.visible_conversations(user)
        .filter(contact=contact)
        .exclude(pk=conversation.pk)
        .select_related("channel")
        .order_by("-last_message_at")[:20]
    )
    identities = list(contact.identities.select_related("channel").order_by("channel__kind"))
    pii_visible = permissions.can_see_contact_pii(user, conversation.organization_id)
    if not pii_visible:
        # Issue 5: the page must not carry the real values. A detached copy, so nothing can save the mask.
        contact = copy.copy(contact)
        contact.phone, contact.email = permissions.mask_phone(contact.phone), permissions.mask_email(contact.email)
        for identity in identities:
            if identity.channel.kind == "whatsapp":  # a WhatsApp id is the phone number
                identity.external_id = permissions.mask_phone(identity.external_id)
    return {"contact": contact, "identities": identities, "history": list(history), "pii_masked": not pii_visible}


def organization_directory(*, membership: Any) -> dict[str, Any]:
    """Members, teams and labels of the user's organization (for the page's menus and @mention completion)."""
    organization_id = membership.organization_id
    members = (
        Membership.objects.filter(organization_id=organization_id, is_active=True)
        .select_related("user")
        .order_by("user__username")
    )
    return {
        "members": [
            {"id": m.user_id, "username": m.user.get_username(), "name": _user_name(m.user), "role": m.role}
            for m in members
        ],
        "teams": [{"id": t.pk, "name": t.name} for t in Team.objects.filter(organization_id=organization_id)],
        "labels": [label_as_dict(label) for label in Label.objects.filter(organization_id=organization_id)],
    }


def collision_warning(*, message: Message, after_message_id: int) -> str:
    """A warning when someone else replied between what the agent had on screen and the agent's reply."""
    others = (
        Message.objects.filter(
            conversation_id=message.conversation_id,
            direction=Message.Direction.OUTBOUND,
            id__gt=after_message_id,
            id__lt=message.pk,
        )
        .exclude(sender_user_id=message.sender_user_id)
        .select_related("sender_user")
        .order_by("-id")
        .first()
    )
    if others is None:
        return ""
    who = _user_name(others.sender_user) if others.sender_user_id else "An automated message"
    return f"{who} replied while you were writing: check that your answers do not repeat or contradict."


BUILTIN_VIEWS: list[dict[str, Any]] = [
    {"key": "mine", "name": "Mine", "filters": {"assignee": "me", "status": ["open", "pending"]}},
    {"key": "unassigned", "name": "Unassigned", "filters": {"assignee": "nobody", "status": ["open"]}},
    {"key": "open", "name": "Open", "filters": {"status": ["open"]}},
    {"key": "pending", "name": "Pending", "filters": {"status": ["pending"]}},
    {"key": "snoozed", "name": "Snoozed", "filters": {"status": ["snoozed"]}},
    {"key": "resolved", "name": "Resolved", "filters": {"status": ["resolved"]}},
    {"key": "all", "name": "All", "filters": {}},
]


def view_counts(*, user: Any, views: list[Any], cap: int = 1000) -> dict[str, int]:
    """Live counts for the sidebar: built-in views by key, saved views as ``"view-<id>"`` (capped at ``cap``)."""
    context = filters.filter_context(user)
    counts = {
        view["key"]: conversation_count(user=user, document=view["filters"], cap=cap, context=context)
        for view in BUILTIN_VIEWS
    }
    for view in views:
        try:
            counts[f"view-{view.pk}"] = conversation_count(user=user, document=view.filters, cap=cap, context=context)
        except filters.FilterError:
            counts[f"view-{view.pk}"] = 0  # a view saved before a condition it uses was unregistered
    return counts


def label_usage(*, organization_id: int) -> list[Label]:
    """The organization's labels by name, each annotated with ``usage``: how many conversations carry it."""
    return list(
        Label.objects.filter(organization_id=organization_id)
        .annotate(usage=Count("conversation_links"))
        .order_by("name")
    )


# What the canned replies page fills variables with when previewing (no conversation to take them from).
PREVIEW_VALUES = {
    "contact.name": "Ana Putri",
    "contact.phone": "+62 812 3456 7890",
    "contact.email": "ana.putri@example.com",
    "channel.name": "WhatsApp",
    "order.number": "1042",
}


def canned_reply_preview(*, body: str, user: Any) -> dict[str, Any]:
    """``body`` with its variables filled by sample values (``agent.name`` is the viewer); unknown ones listed."""
    from inbox.services.canned import VARIABLE, known_variables

    known = set(known_variables())
    unknown: list[str] = []

    def fill(match: Any) -> str:
        name = match.group(1)
        if name not in known:
            unknown.append(name)
            return match.group(0)
        if name == "agent.name":
            return _user_name(user)
        return PREVIEW_VALUES.get(name, f"[{name}]")

    return {"text": VARIABLE.sub(fill, body or ""), "unknown": unknown}
