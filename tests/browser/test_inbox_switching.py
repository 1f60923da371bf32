"""Switching conversations in place (no page reload, URL and back button follow) and the search results panel."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from inbox.models import Role
from tests.browser.test_inbox_live import deliver, log_in, wait_live
from tests.factories import MessageFactory, OrganizationFactory, make_channel, make_conversation
from tests.inbox.factories import member

pytestmark = [pytest.mark.browser, pytest.mark.core, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world():
    org = OrganizationFactory(name="Batik House")
    channel = make_channel(org, name="Sandbox")
    rina = member(org, Role.AGENT, channels=[channel], username="rina")
    ayu = make_conversation(channel, "c1", name="Ayu")
    bayu = make_conversation(channel, "c2", name="Wulan")
    MessageFactory(conversation=ayu, body="Ayu asks about the red sarong")
    MessageFactory(conversation=bayu, body="Wulan wants the zamrud batik shirt")
    return channel, rina, ayu, bayu


def test_clicking_a_conversation_swaps_the_thread_without_a_reload(live_stack, browser_context, world):
    channel, rina, ayu, bayu = world
    page = browser_context.new_page()
    log_in(page, live_stack, rina.username)
    wait_live(page)  # sets window.__notReloaded

    page.locator("#conversation-list a", has_text="Ayu").click()
    expect(page.locator(".thread-header h1")).to_have_text("Ayu")
    expect(page).to_have_url(re.compile(rf"/inbox/c/{ayu.pk}/"))
    expect(page.locator("#thread")).to_contain_text("red sarong")
    page.locator("#conversation-list a", has_text="Wulan").click()
    expect(page.locator("#thread")).to_contain_text("zamrud batik")
    expect(page).to_have_url(re.compile(rf"/inbox/c/{bayu.pk}/"))
    assert page.evaluate("window.__notReloaded") is True
    expect(page.locator("#conversation-list li.current")).to_contain_text("Wulan")

    page.go_back()
    expect(page.locator(".thread-header h1")).to_have_text("Ayu")
    expect(page).to_have_url(re.compile(rf"/inbox/c/{ayu.pk}/"))
    assert page.evaluate("window.__notReloaded") is True

    # Keyboard shortcuts work on the swapped pane: k opens the previous (newer) one, r focuses its composer.
    page.locator("#thread").focus()
    page.keyboard.press("k")
    expect(page.locator(".thread-header h1")).to_have_text("Wulan")
    page.keyboard.press("r")
    expect(page.locator("#reply")).to_be_focused()
    assert page.evaluate("window.__notReloaded") is True

    # The websocket still delivers into the swapped thread, and the reply form still sends.
    deliver(live_stack, channel, "live-1", "still live after switching")
    expect(page.locator(".conversation", has_text="Dewi")).to_have_count(1)
    page.locator("#reply").fill("Yes, size M is in stock")
    page.keyboard.press("Enter")
    expect(page.locator("#thread")).to_contain_text("Yes, size M is in stock")
    assert page.evaluate("window.__notReloaded") is True


def test_search_panel_lists_matches_and_opens_one_with_the_keyboard(live_stack, browser_context, world):
    _channel, rina, _ayu, bayu = world
    page = browser_context.new_page()
    log_in(page, live_stack, rina.username)
    wait_live(page)

    page.locator("#filter-text").fill("zamrud")
    panel = page.locator("#search-results")
    expect(panel).to_be_visible()
    expect(panel.locator(".search-hit")).to_have_count(1)
    expect(panel.locator("mark")).to_have_text("zamrud")
    expect(panel).to_contain_text("Wulan")
    page.keyboard.press("ArrowDown")
    expect(panel.locator(".search-hit").first).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")
    expect(page.locator(".thread-header h1")).to_have_text("Wulan")
    expect(page).to_have_url(re.compile(rf"/inbox/c/{bayu.pk}/"))
    expect(panel).to_be_hidden()
    assert page.evaluate("window.__notReloaded") is True
