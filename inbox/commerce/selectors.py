"""Reads, scoped by ``inbox.permissions.visible_conversations``: a user sees the orders and reservations of the
conversations they may see, nothing else."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from inbox import permissions
from inbox.commerce.models import CatalogImport, Order, Product, Reservation, Resource
from inbox.commerce.money import quantize


@dataclass(frozen=True)
class ListFilters:
    status: str = ""
    channel_id: int | None = None
    resource_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    conversation_id: int | None = None

    @classmethod
    def from_query(cls, query: Any) -> ListFilters:
        """From request GET parameters; values that do not parse are ignored (a filter, not a form)."""

        def as_int(key: str) -> int | None:
            try:
                return int(query.get(key) or "") or None
            except ValueError:
                return None

        def as_date(key: str) -> date | None:
            try:
                return date.fromisoformat(query.get(key) or "")
            except ValueError:
                return None

        return cls(
            status=(query.get("status") or "").strip(),
            channel_id=as_int("channel"),
            resource_id=as_int("resource"),
            date_from=as_date("from"),
            date_to=as_date("to"),
            conversation_id=as_int("conversation"),
        )


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=timezone.get_current_timezone())


def order_list(*, user: Any, filters: ListFilters | None = None) -> QuerySet[Order]:
    """Orders in conversations the user may see, newest first. Date filters apply to ``created_at``."""
    filters = filters or ListFilters()
    orders = Order.objects.filter(conversation__in=permissions.visible_conversations(user)).select_related(
        "contact", "channel", "conversation"
    )
    if filters.status == "open":
        orders = orders.filter(status__in=Order.OPEN_STATUSES)
    elif filters.status:
        orders = orders.filter(status=filters.status)
    if filters.channel_id:
        orders = orders.filter(channel_id=filters.channel_id)
    if filters.conversation_id:
        orders = orders.filter(conversation_id=filters.conversation_id)
    if filters.date_from:
        orders = orders.filter(created_at__gte=_day_start(filters.date_from))
    if filters.date_to:
        orders = orders.filter(created_at__lt=_day_start(filters.date_to + timedelta(days=1)))
    return orders.order_by("-created_at", "-id")


def order_get(*, user: Any, order_id: int) -> Order:
    """One order the user may see; ``Order.DoesNotExist`` otherwise (never reveal that it exists)."""
    return order_list(user=user).prefetch_related("lines", "events__actor", "payments").get(pk=order_id)


def reservation_list(*, user: Any, filters: ListFilters | None = None) -> QuerySet[Reservation]:
    """Reservations in conversations the user may see, soonest first. Date filters apply to ``starts_at``."""
    filters = filters or ListFilters()
    rows = Reservation.objects.filter(conversation__in=permissions.visible_conversations(user)).select_related(
        "resource", "contact", "channel"
    )
    if filters.status == "upcoming":
        rows = rows.filter(status__in=("held", "confirmed"), ends_at__gte=timezone.now())
    elif filters.status:
        rows = rows.filter(status=filters.status)
    if filters.channel_id:
        rows = rows.filter(channel_id=filters.channel_id)
    if filters.resource_id:
        rows = rows.filter(resource_id=filters.resource_id)
    if filters.conversation_id:
        rows = rows.filter(conversation_id=filters.conversation_id)
    if filters.date_from:
        rows = rows.filter(starts_at__gte=_day_start(filters.date_from))
    if filters.date_to:
        rows = rows.filter(starts_at__lt=_day_start(filters.date_to + timedelta(days=1)))
    return rows.order_by("starts_at", "id")


def reservation_get(*, user: Any, reservation_id: int) -> Reservation:
    return reservation_list(user=user).get(pk=reservation_id)


def _organization_id(user: Any) -> int | None:
    membership = permissions.active_membership(user)
    return membership.organization_id if membership else None


def product_list(*, user: Any, active_only: bool = False, query: str = "") -> QuerySet[Product]:
    products = Product.objects.filter(organization_id=_organization_id(user))
    if active_only:
        products = products.filter(active=True)
    if query:
        products = products.filter(name__icontains=query) | products.filter(sku__icontains=query)
    return products.order_by("name", "id")


def resource_list(*, user: Any, active_only: bool = False) -> QuerySet[Resource]:
    resources = Resource.objects.filter(organization_id=_organization_id(user))
    if active_only:
        resources = resources.filter(active=True)
    return resources.order_by("name", "id")


def catalog_import_list(*, user: Any) -> QuerySet[CatalogImport]:
    return CatalogImport.objects.filter(organization_id=_organization_id(user)).order_by("-created_at")[:10]


def catalog_import_get(*, user: Any, import_id: int) -> CatalogImport:
    return CatalogImport.objects.filter(organization_id=_organization_id(user)).get(pk=import_id)


ORDER_CSV_COLUMNS = ["number", "status", "created_at", "paid_at", "contact", "channel", "currency", "subtotal",
                     "discount", "shipping", "total", "lines"]
RESERVATION_CSV_COLUMNS = ["id", "resource", "status", "starts_at", "ends_at", "party_size", "contact", "channel",
                           "notes"]


def order_csv_rows(orders: QuerySet[Order]):  # noqa: ANN201 - a generator of lists, streamed
    yield ORDER_CSV_COLUMNS
    for order in orders.prefetch_related("lines").iterator(chunk_size=500):
        yield [
            order.number, order.status, order.created_at.isoformat(),
            order.paid_at.isoformat() if order.paid_at else "", str(order.contact), order.channel.name,
            order.currency, *(quantize(v, order.currency) for v in (order.subtotal, order.discount_total,
                                                                   order.shipping_fee, order.total)),
            "; ".join(f"{line.quantity} x {line.name}" for line in order.lines.all()),
        ]


def reservation_csv_rows(reservations: QuerySet[Reservation]):  # noqa: ANN201
    yield RESERVATION_CSV_COLUMNS
    for r in reservations.iterator(chunk_size=500):
        yield [r.pk, r.resource.name, r.status, r.starts_at.isoformat(), r.ends_at.isoformat(), r.party_size,
               str(r.contact), r.channel.name, r.notes]
