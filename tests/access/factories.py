"""The access world: one organization with every kind of member, and another organization next door.

Each conversation has a distinctive contact name (``Zed-<key>``), message text and phone number, so a test
can tell from a response body alone which conversations leaked into it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import factory
from django.contrib.auth.models import AnonymousUser

from inbox.access.models import AuditLog, CustomRole, MemberAccess
from inbox.models import Channel, Conversation, Membership, Organization, Role, Team
from tests.factories import MembershipFactory, MessageFactory, OrganizationFactory, make_channel, make_conversation

CONVERSATION_KEYS = ["open", "mine", "team1", "team2", "other_channel"]
# The secret of the organization next door: must never appear in anything a member of "A" receives.
OTHER_ORG_MARKER = "Zed-other-org"


class CustomRoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomRole

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Role {n}")
    permissions = factory.LazyFunction(lambda: ["manage_conversations", "see_unassigned"])


class AuditLogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AuditLog

    organization = factory.SubFactory(OrganizationFactory)
    action = "member.role_changed"


def member(
    organization: Organization,
    role: str = Role.AGENT,
    *,
    username: str,
    channels: tuple[Channel, ...] = (),
    teams: tuple[Team, ...] = (),
    custom_role: CustomRole | None = None,
    only_assigned: bool = False,
    active: bool = True,
) -> Membership:
    membership = MembershipFactory(
        organization=organization,
        role=role,
        user__username=username,
        user__email=f"{username}@example.com",
        is_active=active,
    )
    membership.channels.add(*channels)
    membership.teams.add(*teams)
    if custom_role is not None or only_assigned:
        MemberAccess.objects.create(membership=membership, custom_role=custom_role, only_assigned=only_assigned)
    return membership


ROLES = [
    "owner",
    "admin",
    "supervisor",
    "agent",
    "agent_only_assigned",
    "custom_no_pii",
    "other_org",
    "deactivated",
    "anonymous",
]


@dataclass
class World:
    org: Organization
    other: Organization
    channels: dict[str, Channel]
    teams: dict[str, Team]
    conversations: dict[str, Conversation]
    other_conversation: Conversation
    members: dict[str, Membership] = field(default_factory=dict)

    def user(self, role: str) -> Any:
        return AnonymousUser() if role == "anonymous" else self.members[role].user

    def conversation_ids(self, keys: set[str]) -> set[int]:
        return {self.conversations[k].pk for k in keys}


# What each role must see of organization A's conversations: the specification, written out by hand (not derived
# from inbox.permissions, so a change to the policy has to change this table too).
EXPECTED_CONVERSATIONS: dict[str, set[str]] = {
    "owner": {"open", "mine", "team1", "team2", "other_channel"},
    "admin": {"open", "mine", "team1", "team2", "other_channel"},
    # supervisor of team 1 with access to channel 2
    "supervisor": {"team1", "other_channel"},
    # agent on channel 1 in team 1: not team 2's conversations, not channel 2's
    "agent": {"open", "mine", "team1"},
    "agent_only_assigned": {"mine"},
    "custom_no_pii": {"open", "mine", "team1", "team2"},
    "other_org": set(),
    "deactivated": set(),
    "anonymous": set(),
}
EXPECTED_CHANNELS: dict[str, set[str]] = {
    "owner": {"one", "two"},
    "admin": {"one", "two"},
    "supervisor": {"one", "two"},
    "agent": {"one"},
    "agent_only_assigned": {"one"},
    "custom_no_pii": {"one"},
    "other_org": set(),
    "deactivated": set(),
    "anonymous": set(),
}
SEES_PII = {"owner", "admin", "supervisor", "agent", "agent_only_assigned"}


def make_world() -> World:
    org = OrganizationFactory(name="Org A")
    other = OrganizationFactory(name="Org B")
    one = make_channel(org, name="Channel one")
    two = make_channel(org, name="Channel two")
    team1 = Team.objects.create(organization=org, name="Team 1")
    team2 = Team.objects.create(organization=org, name="Team 2")
    world = World(org, other, {"one": one, "two": two}, {"team1": team1, "team2": team2}, {}, None)  # type: ignore[arg-type]

    no_pii = CustomRoleFactory(organization=org, name="Agent without contact details")
    world.members = {
        "owner": member(org, Role.OWNER, username="owner"),
        "admin": member(org, Role.ADMIN, username="admin"),
        "supervisor": member(org, Role.SUPERVISOR, username="supervisor", teams=(team1,), channels=(two,)),
        "agent": member(org, Role.AGENT, username="agent", channels=(one,), teams=(team1,)),
        "agent_only_assigned": member(org, Role.AGENT, username="onlymine", channels=(one,), only_assigned=True),
        "custom_no_pii": member(org, Role.AGENT, username="nopii", channels=(one,), custom_role=no_pii),
        "deactivated": member(org, Role.AGENT, username="gone", channels=(one, two), active=False),
        "other_org": member(other, Role.ADMIN, username="neighbour"),
    }
    specs = {
        "open": (one, None, None),
        "mine": (one, None, world.members["agent_only_assigned"].user),
        "team1": (one, team1, None),
        "team2": (one, team2, world.members["custom_no_pii"].user),
        "other_channel": (two, None, None),
    }
    for n, (key, (channel, team, assignee)) in enumerate(specs.items()):
        conversation = make_conversation(
            channel,
            customer_id=f"cust-{key}",
            name=f"Zed-{key}",
            team=team,
            assignee=assignee,
            last_message_preview=f"preview-{key}",
        )
        conversation.contact.phone = f"+44 7700 90{n:04d}"
        conversation.contact.email = f"zed-{key}@example.com"
        conversation.contact.save()
        MessageFactory(conversation=conversation, body=f"hello from Zed-{key}")
        world.conversations[key] = conversation
    other_channel = make_channel(other, name="Neighbour channel")
    world.other_conversation = make_conversation(other_channel, customer_id="cust-other", name=OTHER_ORG_MARKER)
    MessageFactory(conversation=world.other_conversation, body=f"hello from {OTHER_ORG_MARKER}")
    return world


def order_for(conversation: Conversation, user: Any) -> Any:
    """A draft order in ``conversation`` (free line, no catalog needed)."""
    from inbox.commerce.services import orders

    return orders.order_create(
        user=user,
        conversation=conversation,
        currency="USD",
        lines=[orders.LineInput(name="Gift wrap", unit_price=Decimal("3.00"))],
    )
