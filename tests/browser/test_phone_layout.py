"""The inbox on a phone (390x844): one pane at a time, chosen with the pane switcher (issue 10)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from inbox.models import Role
from tests.browser.test_inbox_live import assert_no_serious_accessibility_violations, log_in
from tests.factories import MessageFactory, OrganizationFactory, make_channel, make_conversation
from tests.inbox.factories import member

pytestmark = [pytest.mark.browser, pytest.mark.core, pytest.mark.django_db(transaction=True)]

PANES = {"views": ".views-pane", "list": ".list-pane", "thread": ".thread-pane"}


@pytest.fixture
def phone(browser_context):
    page = browser_context.new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    return page


@pytest.fixture
def world():
    org = OrganizationFactory(name="Batik House")
    channel = make_channel(org, name="Sandbox")
    rina = member(org, Role.AGENT, channels=[channel], username="rina")
    ayu = make_conversation(channel, "c1", name="Ayu")
    MessageFactory(conversation=ayu, body="Ayu asks about the red sarong")
    return rina, ayu


def _visible_panes(page) -> list[str]:
    return [name for name, selector in PANES.items() if page.locator(selector).is_visible()]


def _box(page, selector: str) -> dict:
    return page.locator(selector).bounding_box()


def _overlap(a: dict, b: dict) -> bool:
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])  # fmt: skip


def test_the_phone_inbox_shows_one_pane_at_a_time(live_stack, phone, world):
    rina, ayu = world
    log_in(phone, live_stack, rina.username)
    switcher = phone.locator(".pane-switcher")
    expect(switcher).to_be_visible()
    # No conversation open: the list comes first.
    expect(switcher.locator("button[data-pane=list]")).to_have_attribute("aria-pressed", "true")
    assert _visible_panes(phone) == ["list"]

    switcher.locator("button[data-pane=views]").click()
    expect(phone.locator(".views-pane")).to_be_visible()
    assert _visible_panes(phone) == ["views"]
    expect(switcher.locator("button[data-pane=views]")).to_have_attribute("aria-pressed", "true")

    switcher.locator("button[data-pane=list]").click()
    expect(phone.locator(".list-pane")).to_be_visible()
    # Opening a conversation brings its thread forward, alone (its contact details follow below it).
    phone.locator("#conversation-list a", has_text="Ayu").click()
    expect(phone.locator(".thread-header h1")).to_have_text("Ayu")
    expect(phone).to_have_url(re.compile(rf"/inbox/c/{ayu.pk}/"))
    expect(switcher.locator("button[data-pane=thread]")).to_have_attribute("aria-pressed", "true")
    assert _visible_panes(phone) == ["thread"]
    expect(phone.locator("#thread")).to_contain_text("red sarong")

    # Nothing overlaps: the switcher sits above the thread, the thread above the contact pane, all within the width.
    switcher_box, thread_box = _box(phone, ".pane-switcher"), _box(phone, ".thread-pane")
    assert not _overlap(switcher_box, thread_box)
    if phone.locator(".contact-pane").is_visible():
        assert not _overlap(thread_box, _box(phone, ".contact-pane"))
    assert thread_box["x"] >= 0 and thread_box["x"] + thread_box["width"] <= 390 + 1
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390 + 1, "the page scrolls sideways"

    switcher.locator("button[data-pane=list]").click()
    assert _visible_panes(phone) == ["list"]
    assert_no_serious_accessibility_violations(phone)


def test_a_wide_screen_has_no_pane_switcher(live_stack, browser_context, world):
    rina, _ayu = world
    page = browser_context.new_page()
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, live_stack, rina.username)
    expect(page.locator(".pane-switcher")).to_be_hidden()
    assert {"views", "list", "thread"} <= set(_visible_panes(page))
