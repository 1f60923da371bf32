"""Deactivation, invitations, roles, ownership and the audit log, through the services and the pages."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from rest_framework.authtoken.models import Token

from inbox import permissions
from inbox.access.models import AuditLog, Invitation
from inbox.access.services import invitations, members, roles
from inbox.access.services.audit import audit_record
from inbox.models import Membership, Role
from tests.access.factories import AuditLogFactory, make_world, member
from tests.factories import UserFactory

pytestmark = [pytest.mark.core, pytest.mark.django_db]


@pytest.fixture
def world():
    return make_world()


def test_deactivation_ends_the_session_and_the_api_token_at_once(world):
    agent = world.members["agent"]
    browser = Client()
    browser.force_login(agent.user)
    token = Token.objects.create(user=agent.user)
    script = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert browser.get("/inbox/").status_code == 200
    assert script.get("/api/v1/conversations/").status_code == 200

    members.member_deactivate(actor=world.user("admin"), membership=agent)

    page = browser.get("/inbox/")
    assert page.status_code == 302 and "/login/" in page["Location"]  # the session itself is gone
    assert script.get("/api/v1/conversations/").status_code == 401
    assert not Token.objects.filter(user=agent.user).exists()
    entry = AuditLog.objects.get(action="member.deactivated")
    assert entry.actor == world.user("admin") and entry.target_id == str(agent.pk)
    assert entry.details["sessions_ended"] == 1
    assert token.key not in str(entry.details)


def test_a_deactivated_member_logging_in_again_sees_nothing(world):
    agent = world.members["agent"]
    members.member_deactivate(actor=world.user("admin"), membership=agent)
    client = Client()
    client.force_login(agent.user)
    assert client.get("/inbox/").status_code == 403
    assert client.get("/api/v1/conversations/").status_code == 403
    assert not permissions.visible_conversations(agent.user).exists()


def test_who_may_deactivate_whom(world):
    with pytest.raises(PermissionDenied):
        members.member_deactivate(actor=world.user("agent"), membership=world.members["supervisor"])
    with pytest.raises(PermissionDenied):
        members.member_deactivate(actor=world.user("admin"), membership=world.members["owner"])
    with pytest.raises(PermissionDenied):
        members.member_deactivate(actor=world.user("admin"), membership=world.members["admin"])
    second_admin = member(world.org, Role.ADMIN, username="admin2")
    with pytest.raises(PermissionDenied):  # admins are changed by the owner only
        members.member_deactivate(actor=world.user("admin"), membership=second_admin)
    members.member_deactivate(actor=world.user("owner"), membership=second_admin)
    with pytest.raises(PermissionDenied):  # another organization's admin
        members.member_deactivate(actor=world.user("other_org"), membership=world.members["agent"])


def test_an_invitation_is_emailed_accepted_once_and_audited(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invitation, token = invitations.invitation_create(
            actor=world.user("admin"), organization=world.org, email="New.Person@Example.com", role=Role.AGENT
        )
    assert invitation.token_hash != token and token not in invitation.token_hash
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["new.person@example.com"]
    link = re.search(r"https?://\S+", mail.outbox[0].body).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]

    anonymous = Client()
    page = anonymous.get(f"/{path}")
    assert page.status_code == 200 and "Join Org A" in page.content.decode()
    joined = anonymous.post(f"/{path}", {"username": "newperson", "password": "long-enough-pw"})
    assert joined.status_code == 302
    membership = Membership.objects.get(user__username="newperson")
    assert membership.organization == world.org and membership.role == Role.AGENT and membership.is_active
    assert anonymous.get("/inbox/").status_code == 200  # logged in by accepting

    again = Client().get(f"/{path}")
    assert again.status_code == 404  # the link works once
    actions = list(AuditLog.objects.filter(organization=world.org).values_list("action", flat=True))
    assert "invitation.created" in actions and "invitation.accepted" in actions
    assert all(token not in str(e.details) for e in AuditLog.objects.all())


def test_invitation_rules(world):
    with pytest.raises(PermissionDenied):
        invitations.invitation_create(actor=world.user("agent"), organization=world.org, email="a@example.com")
    with pytest.raises(PermissionDenied):  # only the owner invites admins
        invitations.invitation_create(
            actor=world.user("admin"), organization=world.org, email="a@example.com", role=Role.ADMIN
        )
    with pytest.raises(ValidationError):
        invitations.invitation_create(actor=world.user("owner"), organization=world.org, email="not an email")
    with pytest.raises(ValidationError):
        invitations.invitation_create(
            actor=world.user("owner"), organization=world.org, email="x@example.com", role=Role.OWNER
        )
    invitation, token = invitations.invitation_create(
        actor=world.user("owner"), organization=world.org, email="b@example.com"
    )
    invitations.invitation_revoke(actor=world.user("owner"), invitation=invitation)
    with pytest.raises(ValidationError):
        invitations.invitation_accept(token=token, user=UserFactory())
    # a deactivated member cannot use an invitation to get back in
    _, token = invitations.invitation_create(actor=world.user("owner"), organization=world.org, email="c@example.com")
    with pytest.raises(PermissionDenied):
        invitations.invitation_accept(token=token, user=world.user("deactivated"))


def test_ownership_transfer_moves_everything_to_one_new_owner(world):
    with pytest.raises(PermissionDenied):
        members.ownership_transfer(actor=world.user("admin"), new_owner=world.members["admin"])
    members.ownership_transfer(actor=world.user("owner"), new_owner=world.members["admin"])
    roles_now = dict(Membership.objects.filter(organization=world.org).values_list("user__username", "role"))
    assert roles_now["admin"] == Role.OWNER and roles_now["owner"] == Role.ADMIN
    assert list(roles_now.values()).count(Role.OWNER) == 1
    assert permissions.has_permission(world.user("admin"), world.org, "delete_organization")
    assert not permissions.has_permission(world.user("owner"), world.org, "delete_organization")
    assert AuditLog.objects.filter(action="organization.ownership_transferred").exists()


def test_custom_roles_replace_the_defaults_and_changes_are_audited(world):
    role = roles.custom_role_create(
        actor=world.user("admin"), organization=world.org, name="Reader", perms=["view_reports"]
    )
    with pytest.raises(ValidationError):
        roles.custom_role_create(actor=world.user("admin"), organization=world.org, name="Bad", perms=["fly"])
    with pytest.raises(ValidationError):  # owner-only powers are not in the catalogue
        roles.custom_role_create(
            actor=world.user("admin"), organization=world.org, name="Bad", perms=["delete_organization"]
        )
    agent = world.members["agent"]
    members.member_change_role(actor=world.user("admin"), membership=agent, role=Role.AGENT, custom_role=role)
    assert permissions.has_permission(agent.user, world.org, "view_reports")
    assert not permissions.has_permission(agent.user, world.org, "manage_conversations")
    conversation = world.conversations["open"]
    with pytest.raises(PermissionDenied):  # reads, but cannot reply
        permissions.check_can_reply(agent.user, conversation)
    # without see_unassigned, the unassigned queue disappears
    assert set(permissions.visible_conversations(agent.user).values_list("pk", flat=True)) == {
        world.conversations["mine"].pk
    }
    roles.custom_role_delete(actor=world.user("admin"), role=role)
    assert permissions.has_permission(agent.user, world.org, "manage_conversations")
    actions = set(AuditLog.objects.values_list("action", flat=True))
    assert {"role.created", "member.role_changed", "role.deleted"} <= actions
    with pytest.raises(PermissionDenied):
        members.member_change_role(actor=world.user("admin"), membership=agent, role=Role.ADMIN)


def test_unknown_permission_names_fail_loudly():
    with pytest.raises(ValueError):
        permissions.membership_has_permission(None, "manage_everything")


def test_audit_details_never_keep_secrets_or_message_text(world):
    entry = audit_record(
        organization_id=world.org.pk,
        actor=world.user("admin"),
        action="channel.updated",
        details={"name": "Shop", "access_token": "EAAG-secret", "body": "hello", "nested": {"app_secret": "x"}},
    )
    assert entry.details == {"name": "Shop", "nested": {}}


def test_audit_page_filters_and_exports_for_managers_only(world):
    AuditLogFactory(organization=world.org, action="member.deactivated", actor_name="admin")
    AuditLogFactory(organization=world.org, action="role.created", actor_name="owner")
    AuditLogFactory(organization=world.other, action="role.created", actor_name="neighbour-secret")
    admin = Client()
    admin.force_login(world.user("admin"))
    page = admin.get("/settings/audit/", {"action": "member."}).content.decode()
    assert "member.deactivated" in page and "<code>role.created</code>" not in page
    assert "neighbour-secret" not in admin.get("/settings/audit/").content.decode()
    export = admin.get("/settings/audit/", {"format": "csv"})
    csv_text = b"".join(export.streaming_content).decode()
    assert export["Content-Type"] == "text/csv" and "role.created" in csv_text and "neighbour-secret" not in csv_text
    assert AuditLog.objects.filter(organization=world.org, action="audit.exported").exists()
    agent = Client()
    agent.force_login(world.user("agent"))
    assert agent.get("/settings/audit/").status_code == 403


def test_members_page_changes_access_and_a_foreign_member_id_is_refused(world):
    admin = Client()
    admin.force_login(world.user("admin"))
    agent = world.members["agent"]
    response = admin.post(
        "/settings/members/",
        {"action": "access", "member": agent.pk, "channels": [world.channels["two"].pk], "only_assigned": "on"},
        follow=True,
    )
    assert "channels and teams saved" in response.content.decode()
    agent.refresh_from_db()
    assert list(agent.channels.all()) == [world.channels["two"]] and agent.access.only_assigned
    neighbour = world.members["other_org"]
    response = admin.post("/settings/members/", {"action": "deactivate", "member": neighbour.pk}, follow=True)
    assert "No such member" in response.content.decode()
    neighbour.refresh_from_db()
    assert neighbour.is_active
    assert not Invitation.objects.exists()


def test_the_main_navigation_shows_only_what_the_role_may_open(client):
    from inbox.models import Role
    from tests.factories import MembershipFactory, OrganizationFactory

    organization = OrganizationFactory()
    agent = MembershipFactory(organization=organization, role=Role.AGENT).user
    admin = MembershipFactory(organization=organization, role=Role.ADMIN).user

    def main_nav() -> str:
        page = client.get("/inbox/").content.decode()
        start = page.index('<nav aria-label="Main">')
        return page[start : page.index("</nav>", start)]

    client.force_login(agent)
    nav = main_nav()
    assert "/channels/" not in nav and "/automation/rules/" not in nav and "/settings/members/" not in nav
    client.force_login(admin)
    nav = main_nav()
    assert "/channels/" in nav and "/automation/rules/" in nav and "/settings/members/" in nav
