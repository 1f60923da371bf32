"""Orders, reservations, catalog and resources pages, with filters and CSV export."""

from __future__ import annotations

import csv
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods

from inbox import permissions
from inbox.access.services.audit import audit_export  # issue 5: exports are audited
from inbox.commerce import selectors
from inbox.commerce.models import CatalogImport, Order, Product, Reservation, Resource
from inbox.commerce.permissions import can_manage_catalog
from inbox.commerce.services import catalog, reservations
from inbox.commerce.views.common import error_text
from inbox.commerce.views.public import ics_response


def _membership(request: HttpRequest):  # noqa: ANN202
    membership = permissions.active_membership(request.user)
    if membership is None:
        raise PermissionDenied("You are not a member of an organization.")
    return membership


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv(rows, filename: str) -> StreamingHttpResponse:  # noqa: ANN001
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse((writer.writerow(row) for row in rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _filter_context(request: HttpRequest, filters: selectors.ListFilters) -> dict[str, Any]:
    query = request.GET.copy()
    query.pop("cursor", None)
    return {
        "filters": filters,
        "channels": permissions.visible_channels(request.user),
        "query": query.urlencode(),
    }


@login_required
@require_GET
def order_list(request: HttpRequest) -> HttpResponse:
    _membership(request)
    filters = selectors.ListFilters.from_query(request.GET)
    orders = selectors.order_list(user=request.user, filters=filters)
    if request.GET.get("format") == "csv":
        audit_export(request, export="orders.csv")
        return _csv(permissions.rows_for(request.user, selectors.order_csv_rows(orders)), "orders.csv")
    return render(
        request,
        "commerce/orders.html",
        {
            "orders": orders[:200],
            "statuses": Order.Status.choices,
            "open_status": ("open", "Open (not yet fulfilled)"),
            **_filter_context(request, filters),
        },
    )


@login_required
@require_GET
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    try:
        order = selectors.order_get(user=request.user, order_id=order_id)
    except Order.DoesNotExist as exc:
        raise Http404("No such order") from exc
    return render(request, "commerce/order_detail.html", {"order": order})


@login_required
@require_GET
def reservation_list(request: HttpRequest) -> HttpResponse:
    _membership(request)
    filters = selectors.ListFilters.from_query(request.GET)
    rows = selectors.reservation_list(user=request.user, filters=filters)
    if request.GET.get("format") == "csv":
        audit_export(request, export="reservations.csv")
        return _csv(permissions.rows_for(request.user, selectors.reservation_csv_rows(rows)), "reservations.csv")
    return render(
        request,
        "commerce/reservations.html",
        {
            "reservations": rows[:200],
            "statuses": Reservation.Status.choices,
            "extra_status": ("upcoming", "Upcoming (held or confirmed)"),
            "resources": selectors.resource_list(user=request.user),
            **_filter_context(request, filters),
        },
    )


@login_required
@require_GET
def reservation_ics(request: HttpRequest, reservation_id: int) -> HttpResponse:
    try:
        reservation = selectors.reservation_get(user=request.user, reservation_id=reservation_id)
    except Reservation.DoesNotExist as exc:
        raise Http404("No such reservation") from exc
    return ics_response(reservation)


@login_required
@require_http_methods(["GET", "POST"])
def catalog_page(request: HttpRequest) -> HttpResponse:
    """The catalog, a form to add or update one product, and the CSV import with its last results."""
    membership = _membership(request)
    if request.method == "POST":
        try:
            if "file" in request.FILES:
                upload = request.FILES["file"]
                job = catalog.catalog_import_start(
                    user=request.user, organization=membership.organization, filename=upload.name, content=upload.read()
                )
                return redirect("commerce:catalog-import", job.pk)
            if request.POST.get("toggle"):
                product = selectors.product_list(user=request.user).get(pk=request.POST["toggle"])
                catalog.product_set_active(user=request.user, product=product, active=not product.active)
            else:
                product, created = catalog.product_upsert(
                    user=request.user,
                    organization=membership.organization,
                    fields=catalog.ProductFields(
                        **{k: request.POST.get(k, "") for k in ("sku", "name", "price", "currency", "stock")},
                        active=bool(request.POST.get("active")),
                    ),
                )
                messages.success(request, f"{product.name} {'added' if created else 'updated'}.")
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        except PermissionDenied as exc:
            messages.error(request, str(exc))
        except (Product.DoesNotExist, ValueError) as exc:
            raise Http404("No such product") from exc
        return redirect("commerce:catalog")
    return render(
        request,
        "commerce/catalog.html",
        {
            "products": selectors.product_list(user=request.user, query=request.GET.get("q", ""))[:500],
            "imports": selectors.catalog_import_list(user=request.user),
            "can_manage": can_manage_catalog(request.user),
            "q": request.GET.get("q", ""),
        },
    )


@login_required
@require_GET
def catalog_import(request: HttpRequest, import_id: int) -> HttpResponse:
    try:
        job = selectors.catalog_import_get(user=request.user, import_id=import_id)
    except CatalogImport.DoesNotExist as exc:
        raise Http404("No such import") from exc
    if request.GET.get("format") == "json":
        return JsonResponse(
            {
                "status": job.status,
                "total_rows": job.total_rows,
                "processed_rows": job.processed_rows,
                "created": job.created_count,
                "updated": job.updated_count,
                "errors": job.error_count,
                "percent": job.percent,
            }
        )
    return render(
        request,
        "commerce/catalog_import.html",
        {
            "job": job,
            "errors": [r for r in job.results if r.get("result") == "error"],
        },
    )


def _resource_values(post) -> dict[str, Any]:  # noqa: ANN001
    from inbox.commerce.models.reservations import WEEKDAYS

    hours = {}
    for day in WEEKDAYS:
        text = (post.get(f"hours_{day}") or "").strip()
        ranges = []
        for part in text.split(","):
            part = part.strip()
            if not part:
                continue
            if "-" not in part:
                raise ValidationError(gettext("%(day)s: write hours like 09:00-12:00, 13:00-17:00.") % {"day": day})
            start, end = (p.strip() for p in part.split("-", 1))
            ranges.append([start, end])
        hours[day] = ranges
    return {
        "name": post.get("name", ""),
        "kind": post.get("kind", "table"),
        "capacity": post.get("capacity", 1),
        "time_zone": post.get("time_zone", "UTC"),
        "slot_minutes": post.get("slot_minutes", 60),
        "buffer_minutes": post.get("buffer_minutes", 0),
        "opening_hours": hours,
        "blackout_dates": post.get("blackout_dates", ""),
        "active": bool(post.get("active")),
    }


@login_required
@require_http_methods(["GET", "POST"])
def resource_page(request: HttpRequest, resource_id: int | None = None) -> HttpResponse:
    """Resources: the list, and a form to add one (or edit ``resource_id``)."""
    membership = _membership(request)
    resource = None
    if resource_id is not None:
        resource = selectors.resource_list(user=request.user).filter(pk=resource_id).first()
        if resource is None:
            raise Http404("No such resource")
    if request.method == "POST":
        try:
            values = _resource_values(request.POST)
            if resource is None:
                saved = reservations.resource_create(
                    user=request.user, organization=membership.organization, values=values
                )
            else:
                saved = reservations.resource_update(user=request.user, resource=resource, values=values)
            messages.success(request, gettext("%(name)s saved.") % {"name": saved.name})
            return redirect("commerce:resources")
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, error_text(exc) if isinstance(exc, ValidationError) else str(exc))
    from inbox.commerce.models.reservations import WEEKDAYS, default_opening_hours

    hours = resource.opening_hours if resource else default_opening_hours()
    return render(
        request,
        "commerce/resources.html",
        {
            "resources": selectors.resource_list(user=request.user),
            "resource": resource,
            "kinds": Resource.Kind.choices,
            "hours": [(day, ", ".join(f"{a}-{b}" for a, b in hours.get(day, []))) for day in WEEKDAYS],
            "can_manage": can_manage_catalog(request.user),
        },
    )
