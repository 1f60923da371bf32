"""The admin pages: access, "Sent to TikTok", keywords with warnings, extractor errors, replay, dashboard."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from inbox.models import Role
from signals.models import Keyword, SignalEvent, TrackingExtractorRule
from signals.services import delivery
from tests.factories import MembershipFactory
from tests.signals.conftest import Shop, make_shop

pytestmark = [pytest.mark.core, pytest.mark.django_db]

PAGES = ["keywords", "extractors", "events", "sent", "dead", "dashboard"]


@pytest.fixture
def sandbox_shop(db) -> Shop:
    return make_shop(sandbox=True)


def login(client, shop: Shop, role: str = Role.ADMIN):
    membership = MembershipFactory(organization=shop.organization, role=role)
    client.force_login(membership.user)
    return membership


@pytest.mark.parametrize("page", PAGES)
def test_admin_sees_every_page(client, sandbox_shop: Shop, page: str):
    login(client, sandbox_shop)
    response = client.get(reverse(f"signals:{page}"))
    assert response.status_code == 200
    assert b"<h1>" in response.content


def test_agents_are_refused_and_supervisors_only_read(client, sandbox_shop: Shop):
    login(client, sandbox_shop, Role.AGENT)
    assert client.get(reverse("signals:sent")).status_code == 403
    client.logout()
    login(client, sandbox_shop, Role.SUPERVISOR)
    assert client.get(reverse("signals:sent")).status_code == 200
    response = client.post(reverse("signals:dead"), {"all": "1"})
    assert response.status_code == 403


def test_anonymous_is_sent_to_login(client, sandbox_shop: Shop):
    assert client.get(reverse("signals:dashboard")).status_code == 302


def test_sent_to_tiktok_shows_payloads_exactly_as_sent(client, sandbox_shop: Shop):
    sandbox_shop.receive("payment #TT-sentpage1")
    delivery.signals_deliver_pending(time_budget=5)
    login(client, sandbox_shop)
    response = client.get(reverse("signals:sent"))
    body = response.content.decode()
    event_id = SignalEvent.objects.filter(event_name="Contact").get().event_id
    assert event_id in body and "QualifiedLead" in body and "&quot;code&quot;: 0" in body
    assert "#TT-sentpage1" not in body
    assert client.get(reverse("signals:sent") + "?status=dead").content.decode().count(event_id) == 0


def test_add_keyword_warns_for_generic_words(client, sandbox_shop: Shop):
    login(client, sandbox_shop)
    list_id = sandbox_shop.keyword_list.pk
    response = client.post(
        reverse("signals:keywords"), {"action": "add", "list": list_id, "phrase": "hello"}, follow=True
    )
    assert "generic word" in response.content.decode()
    assert Keyword.objects.filter(phrase="hello").exists()


def test_csv_import_and_export(client, sandbox_shop: Shop):
    login(client, sandbox_shop)
    list_id = sandbox_shop.keyword_list.pk
    client.post(
        reverse("signals:keywords"),
        {"action": "import", "list": list_id, "csv": "phrase,flag\nthanh toán,payment\nongkir,shipping\n"},
    )
    assert set(Keyword.objects.filter(flag="shipping").values_list("phrase", flat=True)) == {"ongkir"}
    exported = client.get(reverse("signals:keyword_export", args=[list_id])).content.decode()
    assert exported.startswith("phrase,flag") and "thanh toán,payment" in exported


def test_extractor_pattern_errors_are_shown(client, sandbox_shop: Shop):
    login(client, sandbox_shop)
    response = client.post(
        reverse("signals:extractors"), {"action": "add", "name": "bad", "kind": "pattern", "pattern": "(a+)+b"}
    )
    assert response.status_code == 400
    assert "exponential time" in response.content.decode()
    response = client.post(
        reverse("signals:extractors"),
        {"action": "add", "name": "promo", "kind": "pattern", "pattern": r"PROMO-(\d{4})"},
    )
    assert response.status_code == 302
    assert TrackingExtractorRule.objects.filter(organization=sandbox_shop.organization).last().name == "promo"


def test_dead_letters_replay_button(client, sandbox_shop: Shop):
    sandbox_shop.receive("payment")
    SignalEvent.objects.update(status="dead", last_error="scripted")
    login(client, sandbox_shop)
    assert "scripted" in client.get(reverse("signals:dead")).content.decode()
    client.post(reverse("signals:dead"), {"all": "1"})
    assert set(SignalEvent.objects.values_list("status", flat=True)) == {"pending"}


def test_disconnect_from_the_events_page(client, sandbox_shop: Shop):
    login(client, sandbox_shop)
    client.post(reverse("signals:events"), {"action": "disconnect", "account": sandbox_shop.account.pk})
    sandbox_shop.account.refresh_from_db()
    assert sandbox_shop.account.status == "disconnected"


def test_dashboard_counts_campaigns_and_split(client, sandbox_shop: Shop):
    sandbox_shop.receive("hi", customer="a", referral={"source": "sandbox_ad", "ad_id": "ad-1", "campaign_id": "cmp"})
    sandbox_shop.receive("payment", customer="a")
    sandbox_shop.receive("price?", customer="b")
    login(client, sandbox_shop)
    response = client.get(reverse("signals:dashboard"))
    board = response.context["board"]
    assert (board.ad_driven, board.organic, board.flags_total) == (1, 1, 2)
    [row] = board.rows
    assert (row.campaign_id, row.ad_id, row.conversations, row.flags) == ("cmp", "ad-1", 1, 1)
    chart = json.loads(response.context["chart"] and json.dumps(response.context["chart"]))
    assert sum(chart["series"]["ad_driven"]) == 1 and "vendor/chart.js/chart.umd.min.js" in response.content.decode()


def test_sandbox_events_endpoint_validates_like_tiktok(client):
    url = reverse("signals:sandbox_track")
    good = {
        "event_source": "MESSAGE",
        "event_source_id": "ES",
        "data": [{"event": "Contact", "event_id": "x", "event_time": 1700000000}],
    }
    answer = client.post(url, good, content_type="application/json", HTTP_ACCESS_TOKEN="t").json()
    assert answer["code"] == 0
    assert client.post(url, good, content_type="application/json").json()["code"] == 40104
    bad = {**good, "data": [{"event": "Contact", "event_id": "x", "event_time": 1700000000000}]}
    assert client.post(url, bad, content_type="application/json", HTTP_ACCESS_TOKEN="t").json()["code"] == 40002
