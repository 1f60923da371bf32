"""The interactive API docs work under the site's strict Content-Security-Policy (no exemption)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_inbox_live import log_in
from tests.factories import MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.core, pytest.mark.django_db(transaction=True)]


def test_swagger_ui_renders_the_api_with_the_policy_enforced(live_stack, chromium):
    member = MembershipFactory(user__username="devi")
    context = chromium.new_context()  # CSP enforced, unlike the axe-injecting contexts
    violations: list[str] = []
    page = context.new_page()
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    try:
        log_in(page, live_stack, member.user.username)
        page.goto(f"{live_stack}/api/docs/")
        expect(page.locator(".opblock-tag-section").first).to_be_visible()
        expect(page.get_by_text("/api/v1/conversations/", exact=True).first).to_be_attached()
    finally:
        context.close()
    assert violations == [], violations
