"""The one permission policy. Every entry point (page, API, websocket, export, search) asks it.

Two questions, answered here and nowhere else:

* **What may a member do?** ``has_permission(user, org, perm)``: the role's default permissions
  (``ROLE_PERMISSIONS``), or, when an admin gave the member a custom role, exactly that role's permissions.
  Owners always hold everything, including what only owners do (billing, deleting the organization).
* **What may a member see?** ``visible_conversations(user)``: a queryset scoped by organization, then by role:

  - owner, admin: every conversation of the organization;
  - supervisor: every conversation, or, when given teams, those of their teams plus those of channels they were
    given access to;
  - agent: conversations of the channels they were given access to; when they belong to teams, only those of
    their teams or of no team;
  - then, for anyone: "only conversations assigned to me" (``MemberAccess.only_assigned``) keeps only those;
    a custom role without ``see_unassigned`` hides the unassigned queue.

  Everything hanging off a conversation (messages, notes, orders, reservations, search hits, counts, live events)
  is scoped through this queryset, and another organization's rows are never in it: callers answer 404.

Personal data: without ``see_contact_pii`` a member sees contacts' phone numbers and emails only masked
(``mask_phone``/``mask_email``), and the real values are never put in a page or an API response. Numbers and
addresses typed inside text (messages, notes, previews, search hits, live events, CSV cells) are masked the same
way (``mask_text_pii``, ``mask_payload_pii``, ``rows_for``); a canned reply's ``{{contact.phone}}`` stays a
placeholder in such a member's composer and is filled when the reply is sent (``fill_pii_placeholders``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import connections, router
from django.db.models import Exists, Q, QuerySet
from django.db.models.query import get_related_populators

from inbox.models import Channel, Conversation, Membership, Organization, Role

User = AbstractBaseUser | AnonymousUser

# --- the catalogue ---------------------------------------------------------------------------------------------

# Permissions an admin may put in a custom role (value -> what the settings page shows).
PERMISSION_CATALOGUE: dict[str, str] = {
    "manage_conversations": "Reply to, assign and change conversations",
    "see_unassigned": "See unassigned conversations",
    "manage_contacts": "Edit contacts",
    "see_contact_pii": "See contacts' phone numbers and email addresses",
    "manage_orders": "Take orders and reservations",
    "view_reports": "View reports and signal dashboards",
    "manage_auto_replies": "Manage auto-replies",
    "manage_signals": "Manage signals to TikTok",
    "manage_channels": "Manage channels and connections",
    "manage_members": "Manage members, roles and the audit log",
    "manage_payments": "Record payments and refunds",
    "manage_catalog": "Manage the catalog and bookable resources",
}
# Only ever held by the owner: never grantable through a custom role.
OWNER_ONLY_PERMISSIONS = ("manage_billing", "delete_organization", "transfer_ownership")
ALL_PERMISSIONS = frozenset(PERMISSION_CATALOGUE) | frozenset(OWNER_ONLY_PERMISSIONS)

_AGENT = frozenset({"manage_conversations", "see_unassigned", "manage_contacts", "see_contact_pii", "manage_orders"})
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.OWNER: ALL_PERMISSIONS,
    Role.ADMIN: frozenset(PERMISSION_CATALOGUE),
    Role.SUPERVISOR: _AGENT | {"view_reports", "manage_payments", "manage_catalog"},
    Role.AGENT: _AGENT,
}

# Kept for callers that ask about roles directly (prefer has_permission).
ALL_CHANNEL_ROLES = {Role.OWNER, Role.ADMIN, Role.SUPERVISOR}
MANAGER_ROLES = {Role.OWNER, Role.ADMIN}


# --- memberships -----------------------------------------------------------------------------------------------


def _membership_queryset(user_id: int, organization_id: int | None) -> QuerySet[Membership]:
    memberships = Membership.objects.filter(user_id=user_id, is_active=True).select_related(
        "organization", "access__custom_role"
    )
    if organization_id is not None:
        memberships = memberships.filter(organization_id=organization_id)
    return memberships.order_by("id")[:1]


@dataclass(frozen=True)
class _MembershipLookup:
    """``_membership_queryset``'s SQL compiled once, and how to turn its row into the same model instances.

    Every request asks this (``IsActiveMember``, the list page's filter context), and building and compiling the
    queryset cost about 2.8 ms of CPU per request (issue 4), for one row found through the (user, organization)
    unique index. Nothing is cached but the SQL text: the row is read from the database on every call, so a
    deactivated membership or a changed role or custom role takes effect at once.
    """

    sql: str
    sources: tuple[int, ...]  # each parameter's input: 0 the user id, 1 the organization id
    fields: tuple[Any, ...]  # the selected expressions, for the backend's converters
    init_list: tuple[str, ...]  # the membership's own columns (attnames), first in the row
    populators: tuple[Any, ...]  # Django's own select_related populators (organization, access, custom role)

    @classmethod
    def learn(cls, alias: str, with_organization: bool) -> _MembershipLookup | None:
        """Compile with two stand-in ids; None when a parameter is not exactly one of them (then: the ORM)."""
        stand_ins = (2_000_000_011, 2_000_000_017)  # distinct, within int4 like the real ids
        queryset = _membership_queryset(stand_ins[0], stand_ins[1] if with_organization else None)
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        try:
            sources = tuple(stand_ins.index(p) if type(p) is int else -1 for p in params)
        except ValueError:
            return None
        if -1 in sources or len(set(sources)) != len(sources) or len(sources) != 1 + with_organization:
            return None
        klass_info, select = compiler.klass_info, compiler.select
        if klass_info is None or compiler.annotation_col_map:
            return None
        own = klass_info["select_fields"]
        if own != list(range(len(own))):
            return None
        return cls(
            sql=sql,
            sources=sources,
            fields=tuple(column[0] for column in select[: compiler.col_count]),
            init_list=tuple(column[0].target.attname for column in select[: len(own)]),
            populators=tuple(get_related_populators(klass_info, select, alias)),
        )

    def fetch(self, alias: str, user_id: int, organization_id: int | None) -> Membership | None:
        inputs = (user_id, organization_id)
        connection = connections[alias]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, [inputs[source] for source in self.sources])
            row = cursor.fetchone()
        if row is None:
            return None
        row = list(row)
        for position, expression in enumerate(self.fields):
            for function in connection.ops.get_db_converters(expression) + expression.get_db_converters(connection):
                row[position] = function(row[position], expression, connection)
        membership = Membership.from_db(alias, list(self.init_list), row[: len(self.init_list)])
        for populator in self.populators:
            populator.populate(row, membership)
        return membership


_MEMBERSHIP_LOOKUPS: dict[tuple[str, bool], _MembershipLookup | None] = {}


def _fetch_membership(user_id: int, organization_id: int | None) -> Membership | None:
    alias = router.db_for_read(Membership)
    key = (alias, organization_id is not None)
    if key not in _MEMBERSHIP_LOOKUPS:
        _MEMBERSHIP_LOOKUPS[key] = _MembershipLookup.learn(alias, organization_id is not None)
    lookup = _MEMBERSHIP_LOOKUPS[key]
    if lookup is None:
        return _membership_queryset(user_id, organization_id).first()
    return lookup.fetch(alias, user_id, organization_id)


def _plain_id(value: Any, end: int) -> bool:
    return type(value) is int and 0 <= value < end  # within the column's range, bound as it is


def active_membership(user: User, organization: Organization | int | None = None) -> Membership | None:
    """The user's active membership (in ``organization`` if given, else their first one).

    One indexed query per call (compiled once, ``_MembershipLookup``), memoized only for the length of one request
    (``remember_memberships``).
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    cache = getattr(user, "_policy_memberships", None)
    key = organization.pk if isinstance(organization, Organization) else organization
    if cache is not None and key in cache:
        return cache[key]
    if _plain_id(user.pk, 2**31) and (key is None or _plain_id(key, 2**63)):
        membership = _fetch_membership(user.pk, key)
    else:  # whatever else Django accepts for an id (a string, a huge number): its own answer, as before
        membership = _membership_queryset(user.pk, key).first()
    if cache is not None:
        cache[key] = membership
    return membership


def remember_memberships(user: User) -> None:
    """Memoize ``active_membership`` on this user object from now to the end of one request (DRF's request.user).

    Only request-scoped entry points call it (``inbox.access.drf.IsActiveMember``): a user object that lives
    longer (tests, websockets) keeps asking the database, so a change of role is seen at once.
    """
    if getattr(user, "is_authenticated", False):
        user._policy_memberships = {}  # type: ignore[union-attr]  (fresh each request, even for a reused object)


def require_membership(user: User, organization: Organization | int | None = None) -> Membership:
    membership = active_membership(user, organization)
    if membership is None:
        raise PermissionDenied("You are not a member of this organization.")
    return membership


def _access(membership: Membership) -> object | None:
    try:
        return membership.access  # type: ignore[attr-defined]
    except ObjectDoesNotExist:
        return None


def membership_permissions(membership: Membership | None) -> frozenset[str]:
    """What a member may do: the owner everything; a custom role exactly its list; else the role's defaults."""
    if membership is None or not membership.is_active:
        return frozenset()
    if membership.role == Role.OWNER:
        return ALL_PERMISSIONS
    access = _access(membership)
    custom = getattr(access, "custom_role", None)
    if custom is not None:
        return frozenset(p for p in custom.permissions if p in PERMISSION_CATALOGUE)
    return ROLE_PERMISSIONS.get(membership.role, frozenset())


def membership_has_permission(membership: Membership | None, perm: str) -> bool:
    if perm not in ALL_PERMISSIONS:
        raise ValueError(f"unknown permission {perm!r}")  # a typo must fail loudly, not deny silently
    return perm in membership_permissions(membership)


def has_permission(user: User, organization: Organization | int | None, perm: str) -> bool:
    """Whether ``user`` is an active member of ``organization`` (their first one if None) holding ``perm``."""
    return membership_has_permission(active_membership(user, organization), perm)


def check_permission(user: User, organization: Organization | int | None, perm: str) -> Membership:
    """The membership when ``user`` holds ``perm``; ``PermissionDenied`` with a readable reason otherwise."""
    membership = require_membership(user, organization)
    if not membership_has_permission(membership, perm):
        label = PERMISSION_CATALOGUE.get(perm, perm.replace("_", " "))
        raise PermissionDenied(f"Your role does not allow this ({label.lower()}).")
    return membership


def only_assigned(membership: Membership) -> bool:
    """Whether the member sees only conversations assigned to them."""
    return bool(getattr(_access(membership), "only_assigned", False))


def sees_per_conversation(membership: Membership | None) -> bool:
    """True when channel access alone does not decide visibility (teams, only-assigned, no unassigned queue).

    The websocket then checks each live event's conversation against ``conversations_visible_to``.
    """
    if membership is None:
        return True
    if membership.role in MANAGER_ROLES:
        return only_assigned(membership) or not membership_has_permission(membership, "see_unassigned")
    return (
        only_assigned(membership)
        or not membership_has_permission(membership, "see_unassigned")
        or _team_ids(membership) != []
    )


def _team_ids(membership: Membership) -> list[int]:
    cached = getattr(membership, "_policy_team_ids", None)
    if cached is None:
        links = Membership.teams.through.objects.filter(membership_id=membership.pk)
        cached = list(links.values_list("team_id", flat=True))
        membership._policy_team_ids = cached  # type: ignore[attr-defined]
    return cached


def _channel_ids_subquery(membership: Membership) -> QuerySet:
    return Membership.channels.through.objects.filter(membership_id=membership.pk).values("channel_id")


# --- channels and conversations ----------------------------------------------------------------------------------


def visible_channels(user: User, organization: Organization | int | None = None) -> QuerySet[Channel]:
    return channels_visible_to(active_membership(user, organization))


def channels_visible_to(membership: Membership | None) -> QuerySet[Channel]:
    """Owners, admins and supervisors see every channel of the organization; agents the channels given to them."""
    if membership is None:
        return Channel.objects.none()
    channels = Channel.objects.filter(organization_id=membership.organization_id)
    if membership.role in ALL_CHANNEL_ROLES:
        return channels
    return channels.filter(id__in=_channel_ids_subquery(membership))


def visible_channel_ids(user: User, organization: Organization | int | None = None) -> list[int]:
    return list(visible_channels(user, organization).values_list("id", flat=True))


def visible_conversations(user: User, organization: Organization | int | None = None) -> QuerySet[Conversation]:
    return conversations_visible_to(active_membership(user, organization))


def conversations_visible_to(membership: Membership | None) -> QuerySet[Conversation]:
    """``visible_conversations`` for a membership already looked up (spares the query on hot paths).

    Subqueries, not joins, so no conversation appears twice and callers never need ``distinct()``.
    """
    if membership is None or not membership.is_active:
        return Conversation.objects.none()
    conversations = Conversation.objects.filter(organization_id=membership.organization_id)
    # Team scoping is written as subqueries ("has no teams, or ...") so it costs no extra round trip.
    my_teams = Membership.teams.through.objects.filter(membership_id=membership.pk).values("team_id")
    if membership.role == Role.SUPERVISOR:
        conversations = conversations.filter(
            ~Exists(my_teams) | Q(team_id__in=my_teams) | Q(channel_id__in=_channel_ids_subquery(membership))
        )
    elif membership.role not in MANAGER_ROLES:
        conversations = conversations.filter(channel_id__in=_channel_ids_subquery(membership)).filter(
            ~Exists(my_teams) | Q(team_id__isnull=True) | Q(team_id__in=my_teams)
        )
    if only_assigned(membership):
        conversations = conversations.filter(assignee_id=membership.user_id)
    elif not membership_has_permission(membership, "see_unassigned"):
        conversations = conversations.filter(assignee_id__isnull=False)
    return conversations


def can_view_conversation(user: User, conversation: Conversation) -> bool:
    return visible_conversations(user, conversation.organization_id).filter(pk=conversation.pk).exists()


def check_can_view(user: User, conversation: Conversation) -> Membership:
    """The user's membership when they may see ``conversation``; ``PermissionDenied`` otherwise."""
    membership = active_membership(user, conversation.organization_id)
    if membership is None or not conversations_visible_to(membership).filter(pk=conversation.pk).exists():
        raise PermissionDenied("You do not have access to this conversation.")
    return membership


def check_can_reply(user: User, conversation: Conversation) -> None:
    """Reply, assign, change status: needs to see the conversation and ``manage_conversations``."""
    membership = check_can_view(user, conversation)
    if not membership_has_permission(membership, "manage_conversations"):
        raise PermissionDenied("Your role lets you read conversations, not change them.")


def membership_can_access_channel(membership: Membership, channel_id: int) -> bool:
    """Whether a member (e.g. a prospective assignee) may work the conversations of a channel."""
    if not membership.is_active:
        return False
    if membership.role in ALL_CHANNEL_ROLES:
        return True
    return membership.channels.filter(pk=channel_id).exists()


# --- named questions other apps ask --------------------------------------------------------------------------------


def can_manage_channels(user: User, organization: Organization | int | None = None) -> bool:
    """Channels, connections, CRM and API settings: owners and admins (or a custom role with ``manage_channels``)."""
    return has_permission(user, organization, "manage_channels")


def can_manage_labels(user: User, organization: Organization | int | None = None) -> bool:
    """Labels are organization-wide vocabulary: owners and admins define them."""
    return can_manage_channels(user, organization)


def can_manage_canned_replies(user: User, organization: Organization | int | None = None) -> bool:
    """The canned replies page (edit or delete anyone's): owners and admins, like labels."""
    return can_manage_labels(user, organization)


def can_manage_members(user: User, organization: Organization | int | None = None) -> bool:
    return has_permission(user, organization, "manage_members")


def can_manage_auto_replies(user: User, organization: Organization | int | None = None) -> bool:
    return has_permission(user, organization, "manage_auto_replies")


def can_manage_signals(user: User, organization: Organization | int | None = None) -> bool:
    return has_permission(user, organization, "manage_signals")


def can_view_reports(user: User, organization: Organization | int | None = None) -> bool:
    return has_permission(user, organization, "view_reports")


# --- personal data ---------------------------------------------------------------------------------------------------


def can_see_contact_pii(user: User, organization: Organization | int | None = None) -> bool:
    return has_permission(user, organization, "see_contact_pii")


def mask_phone(phone: str) -> str:
    """``+44 7700 900123`` -> ``•••••••••123``: the last three digits only, never the country or the length."""
    digits = [c for c in phone if c.isdigit()]
    if not digits:
        return ""
    return "•" * 9 + "".join(digits[-3:]) if len(digits) > 4 else "•" * 9


def mask_email(email: str) -> str:
    """``ana.lopez@example.com`` -> ``a•••@e•••``: enough to tell two addresses apart, not to write to one."""
    local, at, domain = email.partition("@")
    if not at:
        return "•••" if email else ""
    return f"{local[:1]}•••@{domain[:1]}•••"


def contact_pii(contact: object, *, visible: bool) -> dict[str, str]:
    """The contact's phone and email as this viewer may see them (masked when ``visible`` is false)."""
    phone, email = getattr(contact, "phone", "") or "", getattr(contact, "email", "") or ""
    if visible:
        return {"phone": phone, "email": email}
    return {"phone": mask_phone(phone), "email": mask_email(email)}


# --- personal data typed inside text ------------------------------------------------------------------------------
#
# Customers type their number or address into messages ("call me on +62 812-3456-4321"). For a viewer without
# ``see_contact_pii`` every path that shows text (thread page, API, websocket, search, notifications, exports)
# passes it through ``mask_text_pii``: emails and phone-like digit runs become masked, the rest stays readable.
# It errs towards masking: a bare 7+ digit run is treated as a number; amounts written with thousands separators
# ("1.500.000", "12,500") and dates ("03-12-2026", "2026/12/03") are left alone.

PII_VARIABLES = frozenset({"contact.phone", "contact.email"})  # canned-reply variables that carry contact PII
_EMAIL_IN_TEXT = re.compile(r"[\w.+%'-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE_IN_TEXT = re.compile(r"\+?\(?\d[\d \t().\-/\u00a0]*\d")
_AMOUNT = re.compile(r"[1-9]\d{0,2}(?:([.,])\d{3})(?:\1\d{3})*(?:[.,]\d{1,2})?")
_DAY, _MONTH, _YEAR = r"(?:0?[1-9]|[12]\d|3[01])", r"(?:0?[1-9]|1[0-2])", r"(?:19|20)\d{2}"
_DATE = re.compile(rf"{_DAY}([-/.]){_MONTH}\1{_YEAR}|{_MONTH}([-/.]){_DAY}\2{_YEAR}|{_YEAR}([-/.]){_MONTH}\3{_DAY}")
MIN_PHONE_DIGITS = 7
# Keys of event and API payloads whose values are free text (others are ids, names of things, times).
TEXT_KEYS = frozenset({"body", "preview", "text", "excerpt", "snippet", "last_message_preview", "notes"})


def _mask_number(match: re.Match[str]) -> str:
    candidate = match.group(0)
    # The run may have picked up trailing separators or an opening bracket: judge the digits themselves.
    digits = sum(c.isdigit() for c in candidate)
    if digits < MIN_PHONE_DIGITS:
        return candidate
    core = candidate.strip(" \t()-./\u00a0")
    if _AMOUNT.fullmatch(core) or _DATE.fullmatch(core):
        return candidate
    return mask_phone(candidate)


def mask_text_pii(text: str) -> str:
    """``text`` with emails and phone numbers masked (``mask_email``/``mask_phone``): no full one survives."""
    if not text:
        return text
    text = _EMAIL_IN_TEXT.sub(lambda m: mask_email(m.group(0)), text)
    return _PHONE_IN_TEXT.sub(_mask_number, text)


def mask_payload_pii(payload: Any) -> Any:
    """A copy of an event/API payload with the free-text fields (``TEXT_KEYS``) masked, at any depth."""
    if isinstance(payload, dict):
        return {
            k: (mask_text_pii(v) if k in TEXT_KEYS and isinstance(v, str) else mask_payload_pii(v))
            for k, v in payload.items()
        }
    if isinstance(payload, list):
        return [mask_payload_pii(v) for v in payload]
    return payload


def text_for(user: User, organization: Organization | int | None, text: str) -> str:
    """``text`` as ``user`` may read it: unchanged with ``see_contact_pii``, masked otherwise."""
    return text if can_see_contact_pii(user, organization) else mask_text_pii(text)


def payload_for(user: User, organization: Organization | int | None, payload: Any) -> Any:
    """``payload`` as ``user`` may receive it: free-text fields masked without ``see_contact_pii``."""
    return payload if can_see_contact_pii(user, organization) else mask_payload_pii(payload)


_PII_PLACEHOLDER = re.compile(r"\{\{\s*(contact\.(?:phone|email))\s*\}\}")


def fill_pii_placeholders(text: str, contact: object) -> str:
    """Fill ``{{contact.phone}}``/``{{contact.email}}`` left in a reply by ``canned_reply_render`` for an agent who
    may not see them: the customer gets the real value, the agent's composer never held it (issue 5)."""
    values = {
        "contact.phone": getattr(contact, "phone", "") or "",
        "contact.email": getattr(contact, "email", "") or "",
    }
    return _PII_PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def rows_for(user: User, rows: Iterable[list[Any]]) -> Iterator[list[Any]]:
    """CSV rows as ``user`` may download them: text cells masked without ``see_contact_pii`` (lazily, streamed)."""
    if can_see_contact_pii(user, None):
        yield from rows
        return
    for row in rows:
        yield [mask_text_pii(cell) if isinstance(cell, str) else cell for cell in row]
