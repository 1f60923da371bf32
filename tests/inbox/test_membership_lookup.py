"""``permissions.active_membership`` runs SQL compiled once (issue 4): the ORM's answer, read afresh each call.

What must hold: the compiled lookup returns what ``_membership_queryset`` returns (the membership, its
organization, access row and custom role, loaded as ``select_related`` would), in one query; and nothing is kept
between calls, so a deactivation, a change of role or of custom role, or a new "only assigned" takes effect at once.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inbox import permissions
from inbox.access.models import CustomRole, MemberAccess
from inbox.models import Membership, Role
from tests.factories import MembershipFactory, OrganizationFactory
from tests.inbox.factories import member

pytestmark = [pytest.mark.django_db, pytest.mark.core]


def orm_membership(user, organization=None):
    key = getattr(organization, "pk", organization)
    return permissions._membership_queryset(user.pk, key).first()


def snapshot(membership):
    """Everything the policy reads of a membership, as plain data."""
    if membership is None:
        return None
    access = permissions._access(membership)
    custom = getattr(access, "custom_role", None)
    return {
        "membership": {f.attname: getattr(membership, f.attname) for f in Membership._meta.concrete_fields},
        "organization": (membership.organization.pk, membership.organization.name, membership.organization.slug),
        "access": None if access is None else (access.pk, access.only_assigned, access.custom_role_id),
        "custom_role": None if custom is None else (custom.pk, custom.name, custom.permissions),
        "permissions": permissions.membership_permissions(membership),
        "only_assigned": permissions.only_assigned(membership),
        "adding": membership._state.adding,
        "db": membership._state.db,
    }


def test_same_answer_as_the_orm_in_one_query():
    organization, other = OrganizationFactory(), OrganizationFactory()
    plain = member(organization)
    limited = member(organization, role=Role.SUPERVISOR)
    role = CustomRole.objects.create(organization=organization, name="Reader", permissions=["view_reports", "x"])
    MemberAccess.objects.create(membership=limited.memberships.get(), custom_role=role, only_assigned=True)
    no_role = member(organization)
    MemberAccess.objects.create(membership=no_role.memberships.get(), only_assigned=False)
    MembershipFactory(user=plain, organization=other, role=Role.ADMIN)
    for user in (plain, limited, no_role):
        for organization_arg in (None, organization, organization.pk, other, other.pk):
            with CaptureQueriesContext(connection) as captured:
                found = permissions.active_membership(user, organization_arg)
            assert len(captured.captured_queries) == 1
            assert snapshot(found) == snapshot(orm_membership(user, organization_arg))
    learned = [v for (alias, _), v in permissions._MEMBERSHIP_LOOKUPS.items() if alias == connection.alias]
    assert len(learned) == 2 and None not in learned  # the compiled path answered, not the ORM fallback
    # A user's first membership (by id) when no organization is given.
    assert permissions.active_membership(plain).organization_id == organization.pk
    assert permissions.active_membership(plain, other).role == Role.ADMIN
    assert permissions.membership_permissions(permissions.active_membership(limited)) == {"view_reports"}


def test_no_membership():
    organization, other = OrganizationFactory(), OrganizationFactory()
    user = member(organization)
    assert permissions.active_membership(user, other) is None
    assert permissions.active_membership(user, 2**40) is None  # a bigint id that matches nothing
    assert permissions.active_membership(AnonymousUser()) is None
    user.is_active = False
    assert permissions.active_membership(user) is None


def test_changes_take_effect_at_once():
    organization = OrganizationFactory()
    user = member(organization)
    membership = Membership.objects.get(user=user)
    assert permissions.active_membership(user, organization).role == Role.AGENT

    Membership.objects.filter(pk=membership.pk).update(role=Role.ADMIN)
    assert permissions.active_membership(user, organization).role == Role.ADMIN

    role = CustomRole.objects.create(organization=organization, name="Narrow", permissions=["manage_contacts"])
    access = MemberAccess.objects.create(membership=membership, custom_role=role)
    assert permissions.membership_permissions(permissions.active_membership(user)) == {"manage_contacts"}
    CustomRole.objects.filter(pk=role.pk).update(permissions=["view_reports"])
    assert permissions.membership_permissions(permissions.active_membership(user)) == {"view_reports"}
    MemberAccess.objects.filter(pk=access.pk).update(only_assigned=True)
    assert permissions.only_assigned(permissions.active_membership(user))

    Membership.objects.filter(pk=membership.pk).update(is_active=False)
    assert permissions.active_membership(user, organization) is None
    assert permissions.active_membership(user) is None


def test_request_memo_is_per_user_object():
    """``remember_memberships`` memoizes for one request's user object only (DRF's request.user)."""
    organization = OrganizationFactory()
    user = member(organization)
    permissions.remember_memberships(user)
    first = permissions.active_membership(user, organization)
    with CaptureQueriesContext(connection) as captured:
        assert permissions.active_membership(user, organization) is first
    assert captured.captured_queries == []
    permissions.remember_memberships(user)  # the next request
    Membership.objects.filter(user=user).update(is_active=False)
    assert permissions.active_membership(user, organization) is None
