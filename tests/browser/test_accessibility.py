"""axe-core over the main pages, as an admin, in light and dark themes; screenshots with SCREENSHOTS=1 (issue 10).

`make screenshots` regenerates docs/screenshots/<page>-<theme>.png (1280x800) for README.md.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from inbox.models import Role
from tests.browser.test_inbox_live import PASSWORD, assert_no_serious_accessibility_violations, deliver
from tests.factories import MembershipFactory, OrganizationFactory, make_channel
from tests.processes import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.core, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = os.environ.get("SCREENSHOTS") == "1"
SHOTS_DIR = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
THEMES = ["light", "dark"]


@pytest.fixture
def shop(live_stack):
    organization = OrganizationFactory(name="Batik House")
    channel = make_channel(organization, name="Batik House sandbox")
    MembershipFactory(organization=organization, role=Role.ADMIN, user__username="maya")
    for n, (text, _customer) in enumerate(
        [("Halo kak, batik tulis ukuran L masih ada?", "Dewi"), ("Is the blue sarong in stock?", "Anan")]
    ):
        assert deliver(live_stack, channel, f"msg-{n}", text).status_code == 200
    wait_until(lambda: channel.conversations.count() >= 1)
    return channel


def pages(channel) -> list[tuple[str, str]]:
    conversation = channel.conversations.order_by("pk").first()
    return [
        ("inbox", reverse("inbox:index")),
        ("conversation", reverse("inbox:conversation", args=[conversation.pk])),
        ("auto-replies", reverse("automation:rules")),
        ("connections", reverse("connections:index")),
        ("orders", reverse("commerce:orders")),
        ("signals", reverse("signals:dashboard")),
        ("preferences", reverse("preferences:edit")),
    ]


def check(page, name: str, theme: str) -> None:
    page.emulate_media(color_scheme=theme)
    assert_no_serious_accessibility_violations(page)
    if SCREENSHOTS:
        SHOTS_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS_DIR / f"{name}-{theme}.png"))


def test_main_pages_have_no_serious_violations(live_stack, chromium, shop) -> None:
    context = chromium.new_context(viewport={"width": 1280, "height": 800}, locale="en-US", bypass_csp=True)
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        page.goto(f"{live_stack}/login/")
        for theme in THEMES:
            check(page, "login", theme)
        page.get_by_label("Username").fill("maya")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page).to_have_url(f"{live_stack}/inbox/")
        failures = []
        for name, path in pages(shop):
            page.goto(f"{live_stack}{path}")
            page.wait_for_load_state("networkidle")
            for theme in THEMES:
                try:
                    check(page, name, theme)
                except AssertionError as exc:
                    failures.append(f"{name} ({theme}): {exc}")
        assert not failures, "\n".join(failures)
    finally:
        context.close()


def test_new_message_is_announced_and_counted_in_the_title(live_stack, chromium, shop) -> None:
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        page.goto(f"{live_stack}/login/")
        page.get_by_label("Username").fill("maya")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.goto(f"{live_stack}/inbox/?view=all")
        expect(page.locator("body[data-live=connected]")).to_have_count(1)
        assert deliver(live_stack, shop, "msg-live", "Apakah bisa COD?").status_code == 200
        expect(page.locator("#live-status")).to_contain_text("New message from")
        expect(page).to_have_title(__import__("re").compile(r"^\(\d+\) Inbox · Switchboard$"))
    finally:
        context.close()


def test_inbox_speaks_thai(live_stack, chromium, shop) -> None:
    context = chromium.new_context(locale="th-TH")
    try:
        page = context.new_page()
        page.goto(f"{live_stack}/login/")
        page.get_by_label("ชื่อผู้ใช้").fill("maya")
        page.get_by_label("รหัสผ่าน").fill(PASSWORD)
        page.get_by_role("button", name="เข้าสู่ระบบ").click()
        expect(page.get_by_role("heading", name="มุมมอง", exact=True)).to_be_visible()
        expect(page.locator("html")).to_have_attribute("lang", "th")
    finally:
        context.close()
