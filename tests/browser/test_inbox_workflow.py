"""The agent's day in the browser: filters, saved views with live counts, bulk resolve, canned replies, notes.

Live changes come from the served process (webhooks and API calls to daphne), so they reach the browser over
the real websocket whatever channel layer the run uses.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from inbox.models import Conversation, ConversationLabel, Note, Notification, Role
from tests.browser.test_inbox_live import deliver, log_in, wait_live
from tests.factories import OrganizationFactory, make_channel, make_conversation
from tests.inbox.factories import CannedReplyFactory, LabelFactory, member
from tests.processes import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.core, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world():
    org = OrganizationFactory(name="Batik House")
    channel = make_channel(org, name="Sandbox")
    rina = member(org, Role.AGENT, channels=[channel], username="rina")
    sari = member(org, Role.AGENT, channels=[channel], username="sari")
    return org, channel, rina, sari


def list_items(page):
    return page.locator("#conversation-list li.conversation")


def test_filter_by_label_and_assignee_then_bulk_resolve(live_stack, browser_context, world):
    org, channel, rina, _ = world
    vip = LabelFactory(organization=org, name="VIP")
    tagged_mine = make_conversation(channel, "c1", name="Ayu", assignee=rina)
    tagged = make_conversation(channel, "c2", name="Bayu")
    plain = make_conversation(channel, "c3", name="Candra")
    for conversation in (tagged_mine, tagged):
        ConversationLabel.objects.create(conversation=conversation, label=vip)

    page = browser_context.new_page()
    log_in(page, live_stack, rina.username)
    wait_live(page)
    expect(list_items(page)).to_have_count(3)

    page.get_by_label("Label filter").select_option(label="VIP")
    expect(list_items(page)).to_have_count(2)
    expect(page.locator("#conversation-list")).not_to_contain_text("Candra")
    page.get_by_label("Assignee filter").select_option("me")
    expect(list_items(page)).to_have_count(1)
    expect(list_items(page).first).to_contain_text("Ayu")
    assert '"assignee":"me"' in page.url.replace("%22", '"').replace("%3A", ":").replace("%2C", ",")

    page.get_by_label("Assignee filter").select_option("")
    page.get_by_label("Label filter").select_option("")
    expect(list_items(page)).to_have_count(3)
    page.get_by_label("Select conversation with Ayu").check()
    page.get_by_label("Select conversation with Candra").check()
    expect(page.locator("#bulk-count")).to_have_text("2 selected")
    page.get_by_role("toolbar", name="Bulk actions").get_by_role("button", name="Resolve").click()
    wait_until(lambda: Conversation.objects.filter(status="resolved").count() == 2, message="bulk resolved")
    page.get_by_label("Status filter").select_option("open")
    expect(list_items(page)).to_have_count(1)
    expect(list_items(page).first).to_contain_text("Bayu")
    assert page.evaluate("window.__notReloaded") is True
    assert set(Conversation.objects.filter(status="resolved").values_list("id", flat=True)) == {
        tagged_mine.pk,
        plain.pk,
    }


def test_saved_view_count_changes_when_a_new_message_arrives(live_stack, browser_context, world):
    _, channel, rina, _ = world
    make_conversation(channel, "c1", name="Ayu")
    page = browser_context.new_page()
    log_in(page, live_stack, rina.username)
    wait_live(page)

    page.get_by_label("Assignee filter").select_option("nobody")
    page.get_by_label("View name").fill("Waiting for someone")
    page.get_by_role("button", name="Save view").click()
    view = page.get_by_role("navigation", name="Views").get_by_role("link", name="Waiting for someone")
    expect(view).to_be_visible()
    expect(view.locator(".count")).to_have_text("1")

    assert deliver(live_stack, channel, "sbx-new-1", "Hello, do you have batik in red?").status_code == 200
    expect(view.locator(".count")).to_have_text("2")
    expect(page.locator("#conversation-list")).to_contain_text("batik in red")
    assert page.evaluate("window.__notReloaded") is True

    page.reload()
    view = page.get_by_role("navigation", name="Views").get_by_role("link", name="Waiting for someone")
    view.click()
    expect(list_items(page)).to_have_count(2)


def test_canned_reply_and_note_with_a_mention(live_stack, browser_context, chromium, world):
    org, channel, rina, sari = world
    CannedReplyFactory(organization=org, short_code="thanks", body="Thank you {{contact.name}}, {{agent.name}} here!")
    assert deliver(live_stack, channel, "sbx-1", "Is the blue batik still available?").status_code == 200
    wait_until(lambda: Conversation.objects.exists(), message="the webhook was processed")
    conversation = Conversation.objects.get()

    colleague_context = chromium.new_context()
    colleague = colleague_context.new_page()
    log_in(colleague, live_stack, sari.username)
    wait_live(colleague)

    page = browser_context.new_page()
    log_in(page, live_stack, rina.username)
    page.goto(f"{live_stack}/inbox/c/{conversation.pk}/")
    wait_live(page)

    reply = page.get_by_label("Reply")
    reply.press_sequentially("/tha")
    suggestion = page.get_by_role("option", name="/thanks")
    expect(suggestion).to_be_visible()
    reply.press("Enter")
    expect(reply).to_have_value("Thank you Dewi, rina here!")
    reply.press("Enter")
    expect(page.locator("#thread li.outbound", has_text="Thank you Dewi, rina here!")).to_be_visible()

    page.get_by_role("button", name="Private note").click()
    page.get_by_label("Note for the team").fill("@sari can you check the red one?")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#thread li.note", has_text="@sari can you check the red one?")).to_be_visible()

    expect(colleague.locator("#mentions")).to_contain_text("rina mentioned you")
    expect(colleague.locator("#mention-count")).to_have_text("1")
    assert colleague.evaluate("window.__notReloaded") is True
    assert Note.objects.get().mentions.get() == sari
    assert Notification.objects.get().user == sari

    # Sari opens it from the mention and sees the note, visually distinct from messages.
    colleague.locator("#mentions a").first.click()
    expect(colleague.locator("#thread li.note")).to_contain_text("can you check the red one?")
    colleague_context.close()
