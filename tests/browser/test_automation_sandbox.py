"""Browser: an admin tests a message in the sandbox, then switches a rule on and reorders rules by keyboard."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from inbox.automation.models import AutoReplyRule
from tests.automation.factories import make_rule, make_shop
from tests.browser.test_inbox_live import PASSWORD, assert_no_serious_accessibility_violations

pytestmark = [pytest.mark.browser, pytest.mark.core, pytest.mark.django_db(transaction=True)]


def log_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base_url}/inbox/")


def test_sandbox_shows_which_rules_fire_and_the_rules_page_switches_and_reorders(live_stack, browser_context):
    shop = make_shop()
    make_rule(shop, "Greeting", trigger="greeting", reply="Welcome!", stop_after_match=False)
    make_rule(shop, "Prices", keywords=["price", "harga"], reply="Prices: shop.example", enabled=False)
    page = browser_context.new_page()
    log_in(page, live_stack, shop.admin.username)

    page.get_by_role("link", name="Auto-replies").click()
    page.get_by_role("navigation", name="Auto-replies").get_by_role("link", name="Test sandbox").click()
    page.get_by_label("Customer message").fill("Kak, berapa HARGA-nya?")
    page.get_by_label("Channel").select_option(label=str(shop.channel))
    page.get_by_role("button", name="Test this message").click()

    result = page.locator("#sandbox-result")
    expect(result.locator(".sandbox-message mark")).to_have_text("HARGA")
    expect(result.locator(".firing-rule strong")).to_have_text(["Greeting", "Prices"])
    expect(result.locator(".firing-rule").nth(1)).to_contain_text("switched off: would fire once switched on")
    expect(result.locator(".firing-rule").nth(1)).to_contain_text("Send a reply: Prices: shop.example")
    assert_no_serious_accessibility_violations(page)

    page.get_by_role("navigation", name="Auto-replies").get_by_role("link", name="Rules").click()
    switch = page.get_by_role("switch", name="Prices switched on")
    expect(switch).to_have_attribute("aria-checked", "false")
    switch.click()
    expect(switch).to_have_attribute("aria-checked", "true")
    assert AutoReplyRule.objects.get(name="Prices").enabled

    page.get_by_role("button", name="Move Prices up").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#reorder-status")).to_have_text("Order saved.")
    expect(page.locator("tbody tr.rule-row th a")).to_have_text(["Prices", "Greeting"])
    assert list(AutoReplyRule.objects.order_by("position").values_list("name", flat=True)) == ["Prices", "Greeting"]
    assert_no_serious_accessibility_violations(page)
