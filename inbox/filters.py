"""The conversation filter language: one small JSON document, validated, compiled by one function to a ``Q``.

The inbox page, the REST API (``?filter=<json>``) and saved views all use it. A document is an object whose
keys are conditions, all of which must hold (``{}`` matches everything)::

    {"status": ["open", "pending"], "assignee": "me", "labels": {"any": [3, 4], "none": [9]},
     "or": [{"priority": ["high", "urgent"]}, {"waiting_minutes": 30}]}

Conditions:

=================  ==========================================================================================
``status``         a status or a list of them (open, pending, snoozed, resolved)
``channel``        a channel id or a list of ids
``channel_kind``   a kind or a list (sandbox, whatsapp, messenger, tiktok)
``labels``         ``{"any": [ids], "all": [ids], "none": [ids]}`` (at least one of the three)
``assignee``       ``"me"``, ``"nobody"``, ``"someone"`` or a user id
``team``           ``"mine"`` (any of my teams), ``"nobody"`` or a team id
``priority``       a priority or a list (none, low, medium, high, urgent)
``campaign_id``    ``true`` (has one), ``false`` (has none) or the exact id; same for ``tracking_id``
``created``        ``{"after": iso, "before": iso, "within_days": n}`` (any of them); same for ``last_activity``
``waiting_minutes``  the customer wrote last, more than n minutes ago
``unread``         ``true``: has customer messages I have not read; ``false``: the opposite
``text``           free text over the contact (name, phone, email) and the messages
``and`` / ``or``   a list of documents, all / any of which must hold
``not``            a document that must not hold
=================  ==========================================================================================

Other apps add conditions without inbox knowing them (``register_condition("has_order", build)``), e.g.
commerce ("has order or reservation") and signals ("has keyword flag").
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import BooleanField, Exists, Expression, F, OuterRef, Q, QuerySet
from django.db.models.expressions import Col
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from inbox.models import Channel, Conversation, ConversationLabel, ConversationRead

MAX_DEPTH = 6
MAX_LIST = 200
NOTHING = Q(pk__in=[])  # matches no row (Django answers it without asking the database)


class FilterError(ValidationError):
    """A filter document that cannot be compiled; the message names the offending path."""


@dataclass(frozen=True)
class FilterContext:
    """What a condition may depend on besides its value: who asks, and when.

    ``team_ids`` is read from ``membership`` only when a filter asks for "my teams".
    """

    user: Any
    organization_id: int | None = None
    now: datetime = field(default_factory=timezone.now)
    membership: Any = None
    fixed_team_ids: tuple[int, ...] | None = None

    @cached_property
    def team_ids(self) -> tuple[int, ...]:
        if self.fixed_team_ids is not None:
            return self.fixed_team_ids
        if self.membership is None:
            return ()
        return tuple(self.membership.teams.values_list("id", flat=True))


# A registered condition: ``validate(value, path)`` returns the cleaned value (or raises FilterError);
# ``build(value, context)`` returns a Q over Conversation.
Validator = Callable[[Any, str], Any]
Builder = Callable[[Any, FilterContext], Q]


@dataclass(frozen=True)
class Condition:
    validate: Validator
    build: Builder


_conditions: dict[str, Condition] = {}


def register_condition(name: str, build: Builder, validate: Validator | None = None) -> None:
    """Add a condition to the language (other apps, in ``AppConfig.ready()``). Re-registering replaces it.

    ``build(value, context) -> Q`` over ``Conversation``; ``validate(value, path)`` cleans the value and raises
    ``FilterError`` with ``path`` in the message; by default the value must be a boolean.
    """
    if name in _BUILTIN or name in ("and", "or", "not"):
        raise ValueError(f"{name!r} is a built-in filter condition")
    _conditions[name] = Condition(validate or _boolean, build)


def unregister_condition(name: str) -> None:
    _conditions.pop(name, None)


def registered_conditions() -> list[str]:
    return sorted([*_BUILTIN, *_conditions])


# --- validation ---------------------------------------------------------------------------------------------


def _fail(path: str, message: str) -> FilterError:
    return FilterError(f"{path}: {message}")


def _boolean(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(path, "expected true or false")
    return value


MAX_ID = 2**63 - 1  # ids are bigints: a larger number cannot reach the database (OverflowError, not a 400)


def _int(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ID:
        raise _fail(path, "expected a non-negative integer")
    return value


#: The longest span a duration condition takes (a hundred years): longer spans cannot be subtracted from now.
MAX_DAYS = 36_500
MAX_MINUTES = MAX_DAYS * 24 * 60


def _duration(limit: int, unit: str) -> Validator:
    def validate(value: Any, path: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= limit:
            raise _fail(path, f"expected a number of {unit} from 0 to {limit:,}")
        return value

    return validate


_within_days = _duration(MAX_DAYS, "days")


def _int_list(value: Any, path: str) -> list[int]:
    values = value if isinstance(value, list) else [value]
    if len(values) > MAX_LIST:
        raise _fail(path, f"at most {MAX_LIST} values")
    return [_int(v, f"{path}[{i}]") for i, v in enumerate(values)]


def _choice_list(choices: list[str]) -> Validator:
    def validate(value: Any, path: str) -> list[str]:
        values = value if isinstance(value, list) else [value]
        if not values:
            raise _fail(path, "expected at least one value")
        for i, v in enumerate(values):
            if v not in choices:
                raise _fail(
                    f"{path}[{i}]" if isinstance(value, list) else path, f"expected one of {', '.join(choices)}"
                )
        return values

    return validate


def _labels(value: Any, path: str) -> dict[str, list[int]]:
    if not isinstance(value, dict) or not value:
        raise _fail(path, 'expected {"any": [ids], "all": [ids], "none": [ids]}')
    unknown = set(value) - {"any", "all", "none"}
    if unknown:
        raise _fail(path, f"unknown key {sorted(unknown)[0]!r} (use any, all, none)")
    return {key: _int_list(ids, f"{path}.{key}") for key, ids in value.items()}


def _assignee(value: Any, path: str) -> str | int:
    if value in ("me", "nobody", "someone"):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return _int(value, path)
    raise _fail(path, 'expected "me", "nobody", "someone" or a user id')


def _team(value: Any, path: str) -> str | int:
    if value in ("mine", "nobody"):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return _int(value, path)
    raise _fail(path, 'expected "mine", "nobody" or a team id')


def _presence(value: Any, path: str) -> bool | str:
    if isinstance(value, bool) or (isinstance(value, str) and 0 < len(value) <= 191):
        return value
    raise _fail(path, "expected true (present), false (absent) or the exact id")


def _range(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict) or not value:
        raise _fail(path, 'expected {"after": iso, "before": iso, "within_days": n}')
    cleaned: dict[str, Any] = {}
    for key, item in value.items():
        if key in ("after", "before"):
            moment = parse_datetime(item) if isinstance(item, str) else None
            if moment is None:
                raise _fail(f"{path}.{key}", "expected an ISO 8601 date and time")
            cleaned[key] = moment if timezone.is_aware(moment) else timezone.make_aware(moment, UTC)
        elif key == "within_days":
            cleaned[key] = _within_days(item, f"{path}.{key}")
        else:
            raise _fail(path, f"unknown key {key!r} (use after, before, within_days)")
    return cleaned


def _text(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, "expected a non-empty string")
    if len(value) > 200:
        raise _fail(path, "at most 200 characters")
    return value.strip()


_VALIDATORS: dict[str, Validator] = {
    "status": _choice_list(list(Conversation.Status.values)),
    "channel": _int_list,
    "channel_kind": _choice_list(list(Channel.Kind.values)),
    "labels": _labels,
    "assignee": _assignee,
    "team": _team,
    "priority": _choice_list(list(Conversation.Priority.values)),
    "campaign_id": _presence,
    "tracking_id": _presence,
    "created": _range,
    "last_activity": _range,
    "waiting_minutes": _duration(MAX_MINUTES, "minutes"),
    "unread": _boolean,
    "text": _text,
}
_BUILTIN = frozenset(_VALIDATORS)


def parse_filter(document: Any, path: str = "filter", depth: int = 0) -> dict[str, Any]:
    """Validate a filter document (a dict, or its JSON text) and return it cleaned. Raises ``FilterError``."""
    if isinstance(document, str | bytes):
        try:
            document = json.loads(document or "{}")
        except ValueError as exc:
            # UnicodeDecodeError (bytes that are not UTF-8) is a ValueError without ``msg``.
            raise _fail(path, f"not valid JSON ({getattr(exc, 'msg', None) or exc.__class__.__name__})") from exc
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise _fail(path, "expected an object of conditions")
    if depth > MAX_DEPTH:
        raise _fail(path, f"groups nest at most {MAX_DEPTH} deep")
    cleaned: dict[str, Any] = {}
    for key, value in document.items():
        where = f"{path}.{key}"
        if key in ("and", "or"):
            if not isinstance(value, list) or not value or len(value) > MAX_LIST:
                raise _fail(where, "expected a non-empty list of filter objects")
            cleaned[key] = [parse_filter(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(value)]
        elif key == "not":
            cleaned[key] = parse_filter(value, where, depth + 1)
        elif key in _VALIDATORS:
            cleaned[key] = _VALIDATORS[key](value, where)
        elif key in _conditions:
            cleaned[key] = _conditions[key].validate(value, where)
        else:
            raise _fail(where, f"unknown condition (known: {', '.join(registered_conditions())})")
    return cleaned


# --- compilation --------------------------------------------------------------------------------------------


def days_before(now: datetime, days: int) -> datetime:
    """``within_days``' bound (shared with ``ShapeWalk``, which must compute the very same parameter)."""
    return now - timedelta(days=days)


def minutes_before(now: datetime, minutes: int) -> datetime:
    """``waiting_minutes``' bound (shared with ``ShapeWalk``)."""
    return now - timedelta(minutes=minutes)


def _label_exists(ids: list[int]) -> Exists:
    return Exists(ConversationLabel.objects.filter(conversation_id=OuterRef("pk"), label_id__in=ids))


LABEL_IDS_COLUMN = "label_ids"  # PostgreSQL only: see ``CarriesLabel`` and migration 0006


class CarriesLabel(Expression):
    """The conversation carries one of ``ids``.

    On PostgreSQL, read from ``inbox_conversation.label_ids``: a ``bigint[]`` copy of the conversation's links that
    a trigger on ``inbox_conversationlabel`` keeps in the same transaction as every link written (migration 0006).
    The column is not a model field, so no ``save()`` can write a stale copy back. Why (issue 4, 1M conversations):
    the list walks conversations newest first, and the ``EXISTS`` over the links either probed the link index for
    each row walked or, inside an ``or``, became a hashed subplan that read all links of the label before the
    first row (27,777 for a label on 1 conversation in 36: 9 ms of 12); the array is a test on the row itself.

    With ``probe`` (a label condition that must hold for the whole document), the ``EXISTS`` is kept next to the
    array test: it lets the planner start from the links of a rare label (the links' statistics know how rare it
    is; the array's only know the common labels, and a walk for a label on no conversation read all of them).
    Other databases (SQLite, the embedded default) test the ``EXISTS`` alone.
    """

    conditional = True

    def __init__(self, ids: list[int], *, probe: bool, pk: Any = None, exists: Any = None) -> None:
        super().__init__(output_field=BooleanField())
        self.ids = list(ids)
        self.probe = probe
        self.pk = F("pk") if pk is None else pk
        self.exists = _label_exists(self.ids) if exists is None else exists

    def get_source_expressions(self) -> list[Any]:
        return [self.pk, self.exists]

    def set_source_expressions(self, exprs: list[Any]) -> None:
        self.pk, self.exists = exprs

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        exists_sql, exists_params = compiler.compile(self.exists)
        if connection.vendor != "postgresql":
            return exists_sql, tuple(exists_params)
        if not isinstance(self.pk, Col):
            raise TypeError("CarriesLabel applies to a query over Conversation")
        column = f"{compiler.quote_name_unless_alias(self.pk.alias)}.{connection.ops.quote_name(LABEL_IDS_COLUMN)}"
        array = f"{column} && ARRAY[{', '.join(['%s'] * len(self.ids))}]::bigint[]"
        if self.probe:
            return f"({array} AND {exists_sql})", (*self.ids, *exists_params)
        return array, tuple(self.ids)


def _labels_q(value: dict[str, list[int]], *, conjunctive: bool) -> Q:
    q = Q()
    if "any" in value:
        q &= Q(CarriesLabel(value["any"], probe=conjunctive)) if value["any"] else NOTHING
    for label_id in value.get("all", []):
        q &= Q(CarriesLabel([label_id], probe=conjunctive))
    if value.get("none"):
        # Where the document requires it, NOT EXISTS (an anti-join, measured as fast as the array); under ``or``
        # and ``not`` the array, for the hashed subplan's reason above.
        q &= ~Q(_label_exists(value["none"]) if conjunctive else CarriesLabel(value["none"], probe=False))
    return q


def _assignee_q(value: str | int, ctx: FilterContext) -> Q:
    if value == "me":
        return Q(assignee_id=getattr(ctx.user, "pk", None))
    if value == "nobody":
        return Q(assignee__isnull=True)
    if value == "someone":
        return Q(assignee__isnull=False)
    return Q(assignee_id=value)


def _team_q(value: str | int, ctx: FilterContext) -> Q:
    if value == "mine":
        return Q(team_id__in=list(ctx.team_ids))
    if value == "nobody":
        return Q(team__isnull=True)
    return Q(team_id=value)


def _presence_q(name: str, value: bool | str) -> Q:
    if value is True:
        return ~Q(**{name: ""})
    if value is False:
        return Q(**{name: ""})
    return Q(**{name: value})


def _range_q(name: str, value: dict[str, Any], ctx: FilterContext) -> Q:
    q = Q()
    if "after" in value:
        q &= Q(**{f"{name}__gte": value["after"]})
    if "before" in value:
        q &= Q(**{f"{name}__lt": value["before"]})
    if "within_days" in value:
        q &= Q(**{f"{name}__gte": days_before(ctx.now, value["within_days"])})
    return q


def _unread_q(value: bool, ctx: FilterContext) -> Q:
    read_up_to_date = ConversationRead.objects.filter(
        conversation_id=OuterRef("pk"),
        user_id=getattr(ctx.user, "pk", None),
        last_read_message_id__gte=OuterRef("last_inbound_message_id"),
    )
    unread = Q(last_inbound_message_id__isnull=False) & ~Q(Exists(read_up_to_date))
    return unread if value else ~unread


def _condition_q(key: str, value: Any, ctx: FilterContext, *, conjunctive: bool = True) -> Q:
    if key == "status":
        return Q(status__in=value)
    if key == "channel":
        return Q(channel_id__in=value)
    if key == "channel_kind":
        return Q(channel__kind__in=value)
    if key == "labels":
        return _labels_q(value, conjunctive=conjunctive)
    if key == "assignee":
        return _assignee_q(value, ctx)
    if key == "team":
        return _team_q(value, ctx)
    if key == "priority":
        return Q(priority__in=value)
    if key in ("campaign_id", "tracking_id"):
        return _presence_q(key, value)
    if key == "created":
        return _range_q("created_at", value, ctx)
    if key == "last_activity":
        return _range_q("last_message_at", value, ctx)
    if key == "waiting_minutes":
        # The customer spoke last: nothing was sent since their last message, and that was long enough ago.
        return Q(
            outbound_since_inbound=0,
            last_inbound_at__isnull=False,
            last_inbound_at__lte=minutes_before(ctx.now, value),
        )
    if key == "unread":
        return _unread_q(value, ctx)
    if key == "text":
        from inbox.permissions import membership_has_permission
        from inbox.search import text_q

        pii = membership_has_permission(ctx.membership, "see_contact_pii")  # issue 5: no phone/email oracle
        return text_q(value, organization_id=ctx.organization_id, include_pii=pii)
    return _conditions[key].build(value, ctx)


def _compile(document: dict[str, Any], ctx: FilterContext, *, conjunctive: bool = True) -> Q:
    """An empty Q means "everything"; groups keep that meaning (``not {}`` is nothing, ``or`` with {} is all).

    ``conjunctive``: every condition of ``document`` must hold for the whole filter to (not under ``or``/``not``).
    """
    q = Q()
    for key, value in document.items():
        if key == "and":
            for part in value:
                q &= _compile(part, ctx, conjunctive=conjunctive)
        elif key == "or":
            parts = [_compile(part, ctx, conjunctive=False) for part in value]
            if all(parts):
                either = NOTHING
                for part in parts:
                    either |= part
                q &= either
        elif key == "not":
            inner = _compile(value, ctx, conjunctive=False)
            q &= ~inner if inner else NOTHING
        else:
            q &= _condition_q(key, value, ctx, conjunctive=conjunctive)
    return q


def filter_context(user: Any, *, now: datetime | None = None, membership: Any = None) -> FilterContext:
    """The context of ``user``'s filters (pass ``membership`` when it is already at hand)."""
    from inbox import permissions

    membership = membership or permissions.active_membership(user)
    return FilterContext(
        user=user,
        organization_id=membership.organization_id if membership else None,
        now=now or timezone.now(),
        membership=membership,
    )


def compile_parsed(document: dict[str, Any], *, context: FilterContext) -> Q:
    """``compile_filter`` for a document ``parse_filter`` already cleaned (not validated again)."""
    return _compile(document, context)


def compile_filter(document: Any, *, context: FilterContext) -> Q:
    """THE compiler: validate ``document`` (dict or JSON text) and return a ``Q`` over ``Conversation``.

    Raises ``FilterError`` (a ``ValidationError``) naming the offending path. The Q does not scope by
    permission: apply it to ``permissions.visible_conversations(user)``.
    """
    return _compile(parse_filter(document), context)


def apply_filter(conversations: QuerySet[Conversation], document: Any, *, context: FilterContext) -> QuerySet:
    """``conversations`` narrowed by ``document``; ``distinct`` is never needed (every join is an EXISTS)."""
    q = compile_filter(document, context=context)
    return conversations.filter(q) if q else conversations


# --- shapes: what the compiled SQL depends on, apart from parameter values -----------------------------------


class Uncacheable(Exception):
    """The document holds a condition whose values may shape its SQL in ways ``ShapeWalk`` cannot see."""


SHAPE_MAX_VALUES = 1000
_INT4_END, _INT8_END = 2**31, 2**63


class ShapeWalk:
    """Walks cleaned filter documents (and other inputs of one query) as ``_compile`` reads them.

    Collects ``tokens``, the *shape* (conditions, their order and nesting, list lengths, the literal choices
    such as ``"me"`` or ``true`` that change the SQL), and ``values``: every parameter the compiled SQL can take
    from the inputs, in walk order, as the SQL receives it (``within_days`` as the moment it stands for). With a
    ``stand_in(kind, value)`` the walk also returns the inputs with each value replaced by its stand-in, which is
    how ``inbox.sql_templates`` finds where each value lands in Django's parameters.

    Only the built-in conditions are known here: ``text`` and registered conditions raise ``Uncacheable``. A new
    built-in condition must be added to ``document`` below, or it raises ``Uncacheable`` too (never a wrong shape).
    """

    def __init__(self, *, now: datetime, stand_in: Callable[[str, Any], Any] | None = None) -> None:
        self.now = now
        self.stand_in = stand_in
        self.tokens: list[Any] = []
        self.values: list[Any] = []
        self.uses_my_teams = False

    def literal(self, token: Any) -> None:
        """A part of the shape that is not a parameter (compared as is)."""
        self.tokens.append(("literal", token))

    def leaf(self, kind: str, value: Any) -> Any:
        """One parameter: ``kind`` is ``id``, ``text``, ``moment``, ``days`` or ``minutes``. Returns its stand-in."""
        if len(self.values) >= SHAPE_MAX_VALUES:
            raise Uncacheable("too many values")
        if kind == "id":
            # Django turns an integer outside a column's range into "no match" instead of a parameter: the range
            # class of each id is part of the shape (int4 columns such as user ids, bigint ones).
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < _INT8_END:
                raise Uncacheable("id out of range")
            kind = "id" if value < _INT4_END else "bigid"
        if self.stand_in is not None:
            value = self.stand_in(kind, value)
        final = value
        if kind == "days":
            final = days_before(self.now, value)
        elif kind == "minutes":
            final = minutes_before(self.now, value)
        self.tokens.append(kind)
        self.values.append(final)
        return value

    def leaves(self, kind: str, values: list[Any]) -> list[Any]:
        self.tokens.append(("list", len(values)))
        return [self.leaf(kind, value) for value in values]

    def document(self, document: dict[str, Any]) -> dict[str, Any]:
        """A cleaned document (``parse_filter``'s output): its shape and values; returns it with stand-ins."""
        walked: dict[str, Any] = {}
        self.tokens.append("{")
        for key, value in document.items():
            self.tokens.append(("key", key))
            if key in ("and", "or"):
                self.tokens.append(("list", len(value)))
                walked[key] = [self.document(part) for part in value]
            elif key == "not":
                walked[key] = self.document(value)
            elif key in ("status", "priority", "channel_kind"):
                walked[key] = self.leaves("text", value)
            elif key == "channel":
                walked[key] = self.leaves("id", value)
            elif key == "labels":
                walked[key] = {}
                for part, ids in value.items():
                    self.tokens.append(("key", part))
                    walked[key][part] = self.leaves("id", ids)
            elif key in ("assignee", "team"):
                if isinstance(value, str):  # "me", "nobody", "someone", "mine": each its own SQL
                    self.literal(value)
                    self.uses_my_teams |= key == "team" and value == "mine"
                    walked[key] = value
                else:
                    walked[key] = self.leaf("id", value)
            elif key in ("campaign_id", "tracking_id"):
                walked[key] = self.leaf("text", value) if isinstance(value, str) else value
                if isinstance(value, bool):
                    self.literal(value)
            elif key in ("created", "last_activity"):
                walked[key] = {}
                for part, item in value.items():
                    self.tokens.append(("key", part))
                    walked[key][part] = self.leaf("days" if part == "within_days" else "moment", item)
            elif key == "waiting_minutes":
                walked[key] = self.leaf("minutes", value)
            elif key == "unread":
                self.literal(value)
                walked[key] = value
            else:
                raise Uncacheable(key)
        self.tokens.append("}")
        return walked
