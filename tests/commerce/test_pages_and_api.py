"""Pages, the conversation panel, CSV export and the REST API, all scoped by the permission policy."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from inbox.commerce.models import CatalogImport, Order, Product, Reservation, Resource
from inbox.commerce.services import orders, reservations
from inbox.models import Message
from tests.commerce.conftest import at_hour

pytestmark = [pytest.mark.core, pytest.mark.django_db]

PANEL = {"HTTP_X_REQUESTED_WITH": "commerce-panel"}


def _order(shop) -> Order:
    return orders.order_create(user=shop.agent, conversation=shop.conversation,
                               lines=[orders.LineInput(product_id=shop.batik.pk)])


def test_orders_page_lists_only_visible_conversations_and_filters(client, shop):
    order = _order(shop)
    client.force_login(shop.agent)
    page = client.get(reverse("commerce:orders"))
    assert page.status_code == 200 and f"#{order.number}".encode() in page.content
    assert b"IDR 150,000" in page.content
    assert f"#{order.number}".encode() not in client.get(reverse("commerce:orders") + "?status=paid").content
    client.force_login(shop.outsider)
    assert f"#{order.number}".encode() not in client.get(reverse("commerce:orders")).content
    assert client.get(reverse("commerce:order", args=[order.pk])).status_code == 404


def test_orders_csv_export(client, shop):
    _order(shop)
    client.force_login(shop.supervisor)
    response = client.get(reverse("commerce:orders") + "?status=draft&format=csv")
    text = b"".join(response.streaming_content).decode()
    assert response["Content-Type"].startswith("text/csv")
    header, row = text.strip().splitlines()
    assert header.startswith("number,status,created_at")
    assert row.startswith("1001,draft,") and ",150000," in row and "1 x Blue batik" in row


def test_empty_pages_say_what_to_do(client, shop):
    client.force_login(shop.agent)
    assert b"Orders are created from a conversation" in client.get(reverse("commerce:orders")).content
    assert b"Bookings are made from a conversation" in client.get(reverse("commerce:reservations")).content


def test_reservations_page_filters_by_resource_and_exports(client, shop):
    reservations.reservation_hold(user=shop.agent, conversation=shop.conversation, resource=shop.table,
                                  starts_at=at_hour())
    client.force_login(shop.agent)
    url = reverse("commerce:reservations")
    assert b"Table 1" in client.get(url + f"?resource={shop.table.pk}&status=held").content
    assert b"<td>Table 1</td>" not in client.get(url + "?status=confirmed").content
    csv_text = b"".join(client.get(url + "?format=csv").streaming_content).decode()
    assert "Table 1,held" in csv_text


def test_panel_fragment_and_creating_an_order_from_it(client, shop):
    client.force_login(shop.agent)
    fragment = client.get(reverse("commerce:panel", args=[shop.conversation.pk]), **PANEL)
    assert fragment.status_code == 200
    assert b"<html" not in fragment.content and b"data-commerce-panel" in fragment.content
    response = client.post(
        reverse("commerce:panel-order-create", args=[shop.conversation.pk]),
        {"product": [str(shop.batik.pk), "", ""], "quantity": ["2", "1", "1"], "send_summary": "1",
         "delivery": "pickup", "pickup_location": "Shop"},
        **PANEL,
    )
    assert response.status_code == 200
    assert b"Order #1001 created as a draft." in response.content
    assert b"Message queued for the customer." in response.content
    assert Message.objects.filter(body__contains="Pickup at: Shop").exists()
    order = Order.objects.get()
    response = client.post(reverse("commerce:panel-order-action", args=[shop.conversation.pk, order.pk]),
                           {"action": "fulfilled"}, **PANEL)
    assert response.status_code == 400
    assert b"A draft order cannot become fulfilled" in response.content


def test_panel_says_cannot_send_now(client, shop, monkeypatch):
    from inbox import channel_rules

    monkeypatch.setitem(channel_rules._rules, "sandbox", channel_rules.ChannelRules(reply_window=timedelta(hours=24)))
    shop.conversation.last_inbound_at = timezone.now() - timedelta(days=3)
    shop.conversation.save()
    order = _order(shop)
    client.force_login(shop.agent)
    response = client.post(reverse("commerce:panel-order-action", args=[shop.conversation.pk, order.pk]),
                           {"action": "summary"}, **PANEL)
    assert response.status_code == 200
    assert b"Cannot send now: The 24-hour reply window has closed" in response.content


def test_panel_is_404_for_someone_without_access(client, shop):
    client.force_login(shop.outsider)
    assert client.get(reverse("commerce:panel", args=[shop.conversation.pk])).status_code == 404
    assert client.post(reverse("commerce:panel-order-create", args=[shop.conversation.pk]), {}).status_code == 404


def test_panel_books_a_free_slot(client, shop):
    client.force_login(shop.agent)
    day = (timezone.now() + timedelta(days=2)).date()
    fragment = client.get(reverse("commerce:panel", args=[shop.conversation.pk]),
                          {"resource": shop.table.pk, "date": day.isoformat()}, **PANEL)
    assert b'name="slot"' in fragment.content
    slot = fragment.content.split(b'name="slot" value="')[1].split(b'"')[0].decode()
    response = client.post(reverse("commerce:panel-reservation-create", args=[shop.conversation.pk]),
                           {"resource": shop.table.pk, "slot": slot, "party_size": "2", "action": "confirm"}, **PANEL)
    assert b"Table 1 confirmed." in response.content
    assert Reservation.objects.get().status == "confirmed"
    again = client.post(reverse("commerce:panel-reservation-create", args=[shop.conversation.pk]),
                        {"resource": shop.table.pk, "slot": slot, "action": "hold"}, **PANEL)
    assert again.status_code == 400 and b"just booked by someone else" in again.content


def test_catalog_import_reports_each_bad_row(client, shop):
    client.force_login(shop.supervisor)
    csv_bytes = (
        b"sku,name,price,currency,stock\n"
        b"BTK-1,Blue batik,175000,IDR,5\n"
        b"BTK-2,Red batik,12.5,IDR,\n"
        b"BTK-3,Green batik,99000,ZZZ,\n"
        b",Nameless,1,USD,\n"
        b"BTK-4,Scarf,25.00,USD,-1\n"
        b"BTK-5,Sarong,80000,IDR,\n"
    )
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(reverse("commerce:catalog"), {"file": SimpleUploadedFile("p.csv", csv_bytes)})
    job = CatalogImport.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("commerce:catalog-import", args=[job.pk])
    assert (job.status, job.total_rows, job.processed_rows, job.created_count, job.updated_count) == (
        "done", 6, 6, 1, 1)
    errors = {r["row"]: r["message"] for r in job.results if r["result"] == "error"}
    assert set(errors) == {3, 4, 5, 6}
    assert "0 decimal places" in errors[3] and "ISO 4217" in errors[4] and "sku is empty" in errors[5]
    assert "stock" in errors[6]
    page = client.get(response["Location"]).content
    assert b"Rows that were not imported" in page and b"ISO 4217" in page
    assert Product.objects.get(sku="BTK-1").price == 175000
    progress = client.get(response["Location"] + "?format=json").json()
    assert progress["percent"] == 100 and progress["errors"] == 4


def test_catalog_import_refuses_a_file_without_the_columns(client, shop):
    client.force_login(shop.supervisor)
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(reverse("commerce:catalog"), {"file": SimpleUploadedFile("p.csv", b"a,b\n1,2\n")},
                           follow=True)
    assert b"missing: sku, name, price, currency" in response.content
    assert not CatalogImport.objects.exists()


def test_big_imports_run_in_the_task(client, shop, settings, django_capture_on_commit_callbacks):
    settings.COMMERCE_IMPORT_INLINE_ROWS = 2
    client.force_login(shop.supervisor)
    from django.core.files.uploadedfile import SimpleUploadedFile

    rows = "".join(f"S{i},Item {i},{i}.00,USD,\n" for i in range(250))
    upload = SimpleUploadedFile("big.csv", ("sku,name,price,currency,stock\n" + rows).encode())
    with django_capture_on_commit_callbacks() as callbacks:
        assert client.post(reverse("commerce:catalog"), {"file": upload}).status_code == 302
    job = CatalogImport.objects.get()
    assert (job.status, job.processed_rows, len(callbacks)) == ("pending", 0, 1)  # queued for the task
    from inbox.commerce.tasks import catalog_import

    catalog_import.apply(args=[job.pk])
    job.refresh_from_db()
    assert (job.status, job.created_count) == ("done", 250)


def test_agents_cannot_change_the_catalog_or_resources(client, shop):
    client.force_login(shop.agent)
    client.post(reverse("commerce:catalog"), {"sku": "X", "name": "X", "price": "1", "currency": "USD"})
    assert not Product.objects.filter(sku="X").exists()
    response = client.post(reverse("commerce:resources"), {"name": "Room", "capacity": 2}, follow=True)
    assert b"Only a supervisor, admin or owner" in response.content


def test_resources_page_creates_a_resource_with_opening_hours(client, shop):
    client.force_login(shop.supervisor)
    response = client.post(reverse("commerce:resources"), {
        "name": "Meeting room", "kind": "room", "capacity": "8", "time_zone": "Asia/Jakarta", "slot_minutes": "30",
        "buffer_minutes": "10", "hours_mon": "09:00-12:00, 13:00-17:00", "blackout_dates": "2031-12-25",
        "active": "1",
    })
    assert response.status_code == 302
    room = Resource.objects.get(name="Meeting room")
    assert room.opening_hours["mon"] == [["09:00", "12:00"], ["13:00", "17:00"]]
    assert room.opening_hours["sun"] == [] and room.blackout_dates == ["2031-12-25"]
    bad = client.post(reverse("commerce:resources"), {"name": "Bad", "time_zone": "Mars/Base", "capacity": 1},
                      follow=True)
    assert b"is not a time zone" in bad.content


def test_api_orders_list_create_transition(client, shop):
    client.force_login(shop.agent)
    created = client.post("/api/v1/orders/", {
        "conversation_id": shop.conversation.pk, "lines": [{"product_id": shop.batik.pk, "quantity": 2}],
        "shipping_fee": "10000",
    }, content_type="application/json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["total"], body["currency"], body["status"]) == ("310000", "IDR", "draft")
    assert body["lines"][0]["unit_price"] == "150000"
    moved = client.post(f"/api/v1/orders/{body['id']}/transition/", {"to": "awaiting_payment"},
                        content_type="application/json")
    assert moved.status_code == 200 and moved.json()["status"] == "awaiting_payment"
    assert moved.json()["messages"][0]["sent"] is True
    refused = client.post(f"/api/v1/orders/{body['id']}/transition/", {"to": "draft"},
                          content_type="application/json")
    assert refused.status_code == 400 and "cannot become draft" in refused.json()["detail"][0]
    forbidden = client.post(f"/api/v1/orders/{body['id']}/transition/", {"to": "paid", "method": "cash"},
                            content_type="application/json")
    assert forbidden.status_code == 403
    assert [o["id"] for o in client.get("/api/v1/orders/?status=awaiting_payment").json()["results"]] == [body["id"]]
    client.force_login(shop.outsider)
    assert client.get("/api/v1/orders/").json()["results"] == []
    assert client.get(f"/api/v1/orders/{body['id']}/").status_code == 404
    assert client.post("/api/v1/orders/", {"conversation_id": shop.conversation.pk, "lines": []},
                       content_type="application/json").status_code == 400


def test_api_bad_input_is_a_400_with_a_message(client, shop):
    client.force_login(shop.agent)
    response = client.post("/api/v1/orders/", {"conversation_id": shop.conversation.pk,
                                               "lines": [{"name": "x", "unit_price": "abc"}]},
                           content_type="application/json")
    assert response.status_code == 400 and "is not a number" in response.json()["detail"][0]


def test_api_reservations_and_availability(client, shop):
    client.force_login(shop.agent)
    day = (timezone.now() + timedelta(days=2)).date().isoformat()
    slots = client.get(f"/api/v1/resources/{shop.table.pk}/availability/?date={day}").json()["slots"]
    assert len(slots) == 24
    created = client.post("/api/v1/reservations/", {
        "conversation_id": shop.conversation.pk, "resource_id": shop.table.pk, "starts_at": slots[10]["starts_at"],
        "party_size": 2, "confirm": True,
    }, content_type="application/json")
    assert created.status_code == 201, created.content
    assert created.json()["status"] == "confirmed" and created.json()["messages"][0]["sent"]
    taken = client.post("/api/v1/reservations/", {
        "conversation_id": shop.conversation.pk, "resource_id": shop.table.pk, "starts_at": slots[10]["starts_at"],
    }, content_type="application/json")
    assert taken.status_code == 400 and "just booked" in taken.json()["detail"][0]
    rid = created.json()["id"]
    cancelled = client.post(f"/api/v1/reservations/{rid}/transition/", {"to": "cancelled", "note": "ill"},
                            content_type="application/json")
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["cancel_reason"] == "ill"
    assert client.get(f"/api/v1/resources/{shop.table.pk}/availability/?date=tomorrow").status_code == 400
    client.force_login(shop.outsider)
    assert client.get("/api/v1/reservations/").json()["results"] == []


def test_nav_link_and_agent_ics(client, shop):
    reservation, _ = reservations.reservation_hold(user=shop.agent, conversation=shop.conversation,
                                                   resource=shop.table, starts_at=at_hour())
    client.force_login(shop.agent)
    assert b'href="/commerce/orders/">Orders</a>' in client.get(reverse("commerce:orders")).content
    assert client.get(reverse("commerce:reservation-ics", args=[reservation.pk])).status_code == 200
    client.force_login(shop.outsider)
    assert client.get(reverse("commerce:reservation-ics", args=[reservation.pk])).status_code == 404
