"""End to end: an agent creates an order from a conversation's panel, sends the payment link, the customer pays
on the (fake) provider's page, and the confirmation arrives in the customer simulator."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from inbox.commerce.models import Order
from inbox.models import Role
from tests.browser.test_inbox_live import assert_no_serious_accessibility_violations, log_in
from tests.commerce.factories import ProductFactory
from tests.factories import MembershipFactory, OrganizationFactory, make_channel, make_conversation
from tests.processes import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.core, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shop():
    organization = OrganizationFactory(name="Batik House")
    channel = make_channel(organization, name="Sandbox")
    agent = MembershipFactory(organization=organization, role=Role.AGENT, user__username="rina")
    agent.channels.add(channel)
    conversation = make_conversation(channel, customer_id="cust-42", name="Dewi")
    ProductFactory(organization=organization, sku="BTK-1", name="Blue batik", price="150000", currency="IDR")
    return channel, conversation, agent.user


def test_order_from_the_conversation_reaches_the_customer(live_stack, browser_context, shop):
    channel, conversation, agent = shop
    page = browser_context.new_page()
    log_in(page, live_stack, agent.username)
    page.goto(f"{live_stack}/commerce/conversations/{conversation.pk}/")
    panel = page.locator("[data-commerce-panel]")
    expect(panel.get_by_role("heading", name="Orders & bookings")).to_be_visible()

    panel.get_by_label("Product 1").select_option(label="Blue batik (IDR 150,000)")
    panel.get_by_label("Quantity 1").fill("2")
    panel.get_by_role("button", name="Create order").click()
    expect(panel.locator(".commerce-outcome")).to_contain_text("Order #1001 created as a draft.")
    expect(panel.locator(".commerce-outcome")).to_contain_text("Message queued for the customer.")
    expect(panel.locator("[data-order-status=draft]")).to_contain_text("IDR 300,000")
    assert_no_serious_accessibility_violations(page)

    panel.get_by_role("button", name="Send payment link").click()
    expect(panel.locator(".commerce-outcome")).to_contain_text("awaiting payment")
    expect(panel.locator("[data-order-status=awaiting_payment]")).to_be_visible()
    link = panel.locator("[data-order-status=awaiting_payment] a[target=_blank]").get_attribute("href")

    customer = browser_context.new_page()
    customer.goto(live_stack + urlparse(link).path)
    customer.get_by_role("button", name="Pay IDR 300,000").click()
    expect(customer.get_by_role("status")).to_contain_text("Payment received")

    wait_until(lambda: Order.objects.filter(status="paid").exists(), message="order paid")
    simulator = browser_context.new_page()
    simulator.goto(f"{live_stack}/simulator/{channel.pk}/?customer=cust-42")
    thread = simulator.locator("#sim-thread")
    expect(thread).to_contain_text("Order #1001")
    expect(thread).to_contain_text("To pay order #1001 (IDR 300,000)")
    expect(thread).to_contain_text("Payment received for order #1001 (IDR 300,000). Thank you!")

    page.reload()
    expect(page.locator("[data-order-status=paid]")).to_contain_text("Paid")
