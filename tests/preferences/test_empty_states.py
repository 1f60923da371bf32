"""Every list page of a new organization shows an empty state with the next step as a link (issue 10)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from inbox.models import Role
from tests.factories import MembershipFactory

pytestmark = [pytest.mark.core, pytest.mark.django_db]

# page -> (empty-state name, where its call to action leads)
PAGES = {
    "automation:rules": ("rules", "automation:rule_new"),
    "connections:index": ("connections", "integrations:channel-new"),
    "integrations:channels": ("channels", "integrations:channel-new"),
    "commerce:orders": ("orders", "inbox:index"),
    "commerce:reservations": ("reservations", "commerce:resources"),
    "commerce:catalog": ("catalog", "#p-sku"),
    "crm:settings": ("crm", None),
    "crm:log": ("crm-log", "crm:settings"),
    "crm:webhooks": ("crm-webhooks", "#url"),
    "signals:dashboard": ("signals-dashboard", "signals:events"),
    "signals:events": ("signals-events", "connections:index"),
    "signals:keywords": ("signals-keywords", "#list-name"),
    "signals:sent": ("signals-sent", "signals:events"),
    "signals:dead": ("signals-dead", "signals:sent"),
    "access:audit": ("audit", "access:members"),
    "access:members": ("members", "#invite-email"),
}


@pytest.fixture
def owner_client(client):
    client.force_login(MembershipFactory(role=Role.OWNER).user)
    return client


def _empty_state(page: str, name: str) -> str:
    match = re.search(rf'<(section|div) class="[^"]*empty-state[^"]*" data-empty-state="{name}">(.*?)</\1>', page, re.S)
    assert match, f"no empty state {name!r}"
    return match.group(2)


@pytest.mark.parametrize("url_name", sorted(PAGES))
def test_an_empty_page_says_what_to_do_next(owner_client, url_name: str) -> None:
    name, target = PAGES[url_name]
    response = owner_client.get(reverse(url_name))
    assert response.status_code == 200
    block = _empty_state(response.content.decode(), name)
    assert re.search(r"<h[23]>[^<]+</h[23]>", block), "an empty state has a title"
    links = re.findall(r'<a class="button[^"]*" href="([^"]+)"', block)
    assert links, "an empty state has a call to action"
    if target:
        expected = target if target.startswith("#") else reverse(target)
        assert expected in links


def test_a_filtered_empty_list_offers_to_clear_the_filters(owner_client) -> None:
    page = owner_client.get(reverse("commerce:orders"), {"status": "paid"}).content.decode()
    assert 'href="?"' in _empty_state(page, "orders-filtered")
    assert 'data-empty-state="orders"' not in page


def test_empty_states_speak_the_users_language(owner_client) -> None:
    page = owner_client.get(reverse("commerce:orders"), HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert "No orders yet" not in _empty_state(page, "orders")
