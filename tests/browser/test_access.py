"""An agent whose role hides personal data sees masked phone numbers and no admin links; an admin sees both."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from inbox.access.models import CustomRole, MemberAccess
from inbox.models import Membership, Role
from tests.browser.test_inbox_live import log_in
from tests.factories import OrganizationFactory, make_channel, make_conversation
from tests.inbox.factories import member

pytestmark = [pytest.mark.browser, pytest.mark.core, pytest.mark.django_db(transaction=True)]

PHONE = "+62 812 5550 1234"


def test_agent_without_personal_data_sees_a_masked_phone_and_no_members_link(live_stack, browser_context):
    org = OrganizationFactory(name="Batik House")
    channel = make_channel(org, name="Sandbox")
    agent = member(org, Role.AGENT, channels=[channel], username="dewi")
    admin = member(org, Role.ADMIN, username="made")
    no_pii = CustomRole.objects.create(
        organization=org, name="Agent without contact details", permissions=["manage_conversations", "see_unassigned"]
    )
    MemberAccess.objects.create(membership=Membership.objects.get(user=agent), custom_role=no_pii)
    conversation = make_conversation(channel, "c1", name="Ayu")
    conversation.contact.phone, conversation.contact.email = PHONE, "ayu@example.com"
    conversation.contact.save()

    page = browser_context.new_page()
    log_in(page, live_stack, agent.username)
    page.goto(f"{live_stack}/inbox/c/{conversation.pk}/")
    expect(page.get_by_label("Phone")).to_have_value("•••••••••234")
    source = page.content()
    assert PHONE not in source and "5550" not in source and "ayu@example.com" not in source
    main_nav = page.get_by_role("navigation", name="Main")
    expect(main_nav.get_by_role("link", name="Members")).to_have_count(0)
    assert page.goto(f"{live_stack}/settings/members/").status == 403

    admin_page = browser_context.browser.new_context().new_page()
    log_in(admin_page, live_stack, admin.username)
    admin_page.goto(f"{live_stack}/inbox/c/{conversation.pk}/")
    expect(admin_page.get_by_label("Phone")).to_have_value(PHONE)
    admin_page.get_by_role("navigation", name="Main").get_by_role("link", name="Members").click()
    expect(admin_page.get_by_role("heading", name="Members", level=1)).to_be_visible()
    expect(admin_page.get_by_role("row", name="dewi")).to_be_visible()
