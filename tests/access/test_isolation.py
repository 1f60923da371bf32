"""Tenant isolation and the scoping rules, as a property: random organizations, members and conversations.

The policy is compared with a reference written independently here in plain Python, and every selector a user
reads through (list page, counts, detail, search, contact history, channels, orders) must stay inside it.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from inbox import permissions, search, selectors
from inbox.access.models import CustomRole, MemberAccess
from inbox.models import Conversation, Role, Team
from tests.factories import MembershipFactory, OrganizationFactory, make_channel, make_conversation

ROLES = [Role.OWNER, Role.ADMIN, Role.SUPERVISOR, Role.AGENT]

member_spec = st.fixed_dictionaries(
    {
        "org": st.integers(0, 1),
        "role": st.sampled_from(ROLES),
        "channels": st.sets(st.integers(0, 2), max_size=3),
        "teams": st.sets(st.integers(0, 1), max_size=2),
        "only_assigned": st.booleans(),
        "no_unassigned": st.booleans(),  # a custom role without see_unassigned
        "active": st.booleans(),
    }
)
conversation_spec = st.fixed_dictionaries(
    {
        "org": st.integers(0, 1),
        "channel": st.integers(0, 2),
        "team": st.none() | st.integers(0, 1),
        "assignee": st.none() | st.integers(0, 5),
    }
)


def expected_visible(m: dict, c: dict, member_index: int) -> bool:
    """The specification, independent of inbox.permissions."""
    if not m["active"] or m["org"] != c["org"]:
        return False
    if m["role"] == Role.SUPERVISOR:
        scoped = not m["teams"] or c["team"] in m["teams"] or c["channel"] in m["channels"]
    elif m["role"] == Role.AGENT:
        scoped = c["channel"] in m["channels"] and (not m["teams"] or c["team"] is None or c["team"] in m["teams"])
    else:
        scoped = True
    if not scoped:
        return False
    if m["only_assigned"]:
        return c["assignee"] == member_index
    if m["no_unassigned"] and m["role"] != Role.OWNER:
        return c["assignee"] is not None
    return True


@pytest.mark.core
class TenantIsolation(TestCase):
    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        members=st.lists(member_spec, min_size=1, max_size=6),
        conversations=st.lists(conversation_spec, min_size=1, max_size=8),
    )
    def test_a_member_sees_exactly_the_specification_and_never_another_organization(self, members, conversations):
        orgs = [OrganizationFactory(), OrganizationFactory()]
        channels = {(o, i): make_channel(orgs[o], name=f"c{i}") for o in range(2) for i in range(3)}
        teams = {(o, i): Team.objects.create(organization=orgs[o], name=f"t{i}") for o in range(2) for i in range(2)}
        no_unassigned = {
            o: CustomRole.objects.create(organization=orgs[o], name="No queue", permissions=["manage_conversations"])
            for o in range(2)
        }
        memberships = []
        for m in members:
            membership = MembershipFactory(organization=orgs[m["org"]], role=m["role"], is_active=m["active"])
            membership.channels.add(*(channels[(m["org"], i)] for i in m["channels"]))
            membership.teams.add(*(teams[(m["org"], i)] for i in m["teams"]))
            MemberAccess.objects.create(
                membership=membership,
                only_assigned=m["only_assigned"],
                custom_role=no_unassigned[m["org"]] if m["no_unassigned"] else None,
            )
            memberships.append(membership)
        rows: list[Conversation] = []
        for n, c in enumerate(conversations):
            assignee = (
                memberships[c["assignee"]].user
                if c["assignee"] is not None and c["assignee"] < len(memberships)
                else None
            )
            c["assignee"] = c["assignee"] if assignee is not None else None
            rows.append(
                make_conversation(
                    channels[(c["org"], c["channel"])],
                    customer_id=f"cust-{n}",
                    name=f"Zed {n}",
                    team=teams[(c["org"], c["team"])] if c["team"] is not None else None,
                    assignee=assignee,
                )
            )

        for index, (m, membership) in enumerate(zip(members, memberships, strict=True)):
            user = membership.user
            # A member of several organizations is not generated: the user's first membership is this one.
            want = {row.pk for row, c in zip(rows, conversations, strict=True) if expected_visible(m, c, index)}
            visible = set(permissions.visible_conversations(user).values_list("pk", flat=True))
            assert visible == want, (m, conversations)
            own_org = orgs[m["org"]].pk
            page = selectors.conversation_page(user=user, document={}, limit=100).conversations
            assert {c.pk for c in page} == want and all(c.organization_id == own_org for c in page)
            assert selectors.conversation_count(user=user, document={}) == len(want)
            hits = search.search_contacts(conversations=permissions.visible_conversations(user), text="Zed")
            assert {h["conversation_id"] for h in hits} <= want
            assert all(ch.organization_id == own_org for ch in permissions.visible_channels(user))
            for row in rows:
                try:
                    got = selectors.conversation_get(user=user, conversation_id=row.pk)
                except Conversation.DoesNotExist:
                    assert row.pk not in want
                else:
                    assert got.pk in want
                    history = selectors.contact_sidebar(user=user, conversation=got)["history"]
                    assert all(h.pk in want for h in history)
