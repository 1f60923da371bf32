"""The conversation-side panel: orders and bookings of one conversation, as an HTML fragment the inbox page
includes (``static/commerce_panel.js`` loads it and submits its forms), or as a page of its own."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from inbox import selectors as inbox_selectors
from inbox.commerce import selectors
from inbox.commerce.models import Order, Reservation, Resource
from inbox.commerce.permissions import can_handle_money
from inbox.commerce.services import availability, orders, payments, reservations
from inbox.commerce.views.common import error_text, is_fragment_request, parse_when
from inbox.models import Conversation


def _conversation(request: HttpRequest, conversation_id: int) -> Conversation:
    try:
        return inbox_selectors.conversation_get(user=request.user, conversation_id=conversation_id)
    except Conversation.DoesNotExist as exc:
        raise Http404("No such conversation") from exc


def _panel_context(request: HttpRequest, conversation: Conversation, **extra: Any) -> dict[str, Any]:
    user = request.user
    scoped = selectors.ListFilters(conversation_id=conversation.pk)
    resources = list(selectors.resource_list(user=user, active_only=True))
    source = request.GET if request.method == "GET" else request.POST
    resource_id = source.get("resource") or (str(resources[0].pk) if resources else "")
    resource = next((r for r in resources if str(r.pk) == resource_id), None)
    try:
        day = date.fromisoformat(source.get("date", ""))
    except ValueError:
        day = timezone.localdate()
    slots = availability.free_slots(resource=resource, day=day) if resource else []
    context = {
        "conversation": conversation,
        "orders": list(selectors.order_list(user=user, filters=scoped).prefetch_related("lines", "payments")[:20]),
        "reservations": list(selectors.reservation_list(user=user, filters=scoped).order_by("-starts_at")[:20]),
        "products": list(selectors.product_list(user=user, active_only=True)[:500]),
        "resources": resources,
        "resource": resource,
        "day": day,
        "next_day": day + timedelta(days=1),
        "slots": slots,
        "can_handle_money": can_handle_money(user, conversation.organization_id),
        "notices": [],
        "errors": [],
        "line_rows": range(3),
    }
    context.update(extra)
    return context


def _render(request: HttpRequest, conversation: Conversation, *, status: int = 200, **extra: Any) -> HttpResponse:
    return render(
        request, "commerce/_conversation_panel.html", _panel_context(request, conversation, **extra), status=status
    )


def _after_action(
    request: HttpRequest, conversation: Conversation, *, notices: list[str] = (), errors: list[str] = ()
) -> HttpResponse:
    if is_fragment_request(request):
        return _render(request, conversation, status=400 if errors else 200, notices=list(notices), errors=list(errors))
    # Without the script: back to the panel's own page, which shows the outcome.
    for text in notices:
        messages.info(request, text)
    for text in errors:
        messages.error(request, text)
    return redirect("commerce:conversation", conversation.pk)


@login_required
@require_GET
def panel(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """GET /commerce/conversations/<id>/panel: the fragment (``?resource=&date=`` picks the day of free slots)."""
    return _render(request, _conversation(request, conversation_id))


@login_required
@require_GET
def panel_page(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _conversation(request, conversation_id)
    return render(request, "commerce/conversation_page.html", _panel_context(request, conversation))


def _guard(request: HttpRequest, conversation: Conversation, action) -> HttpResponse:  # noqa: ANN001
    try:
        notices = action()
    except ValidationError as exc:
        return _after_action(request, conversation, errors=[error_text(exc)])
    except PermissionDenied as exc:
        return _after_action(request, conversation, errors=[str(exc) or "You may not do that."])
    return _after_action(request, conversation, notices=notices)


@login_required
@require_POST
def order_create(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _conversation(request, conversation_id)
    post = request.POST

    def action() -> list[str]:
        lines = []
        for product_id, quantity in zip(post.getlist("product"), post.getlist("quantity"), strict=False):
            if product_id:
                if not product_id.isdigit():
                    raise ValidationError(gettext("Pick products from the list."))
                lines.append(orders.LineInput(product_id=int(product_id), quantity=quantity))
        if post.get("free_name", "").strip():
            lines.append(
                orders.LineInput(
                    name=post["free_name"], unit_price=post.get("free_price"), quantity=post.get("free_quantity") or 1
                )
            )
        details = orders.OrderDetails(
            delivery=post.get("delivery", "none"),
            shipping_address=post.get("shipping_address", ""),
            shipping_name=post.get("shipping_name", ""),
            pickup_location=post.get("pickup_location", ""),
            notes=post.get("notes", ""),
            discount_percent=post.get("discount_percent") or 0,
            discount_amount=post.get("discount_amount") or 0,
            shipping_fee=post.get("shipping_fee") or 0,
        )
        order = orders.order_create(
            user=request.user,
            conversation=conversation,
            currency=post.get("currency", ""),
            lines=lines,
            details=details,
        )
        notices = [f"Order #{order.number} created as a draft."]
        if post.get("send_summary"):
            notices.append(orders.order_send_summary(user=request.user, order=order).notice)
        return notices

    return _guard(request, conversation, action)


def _order(request: HttpRequest, conversation: Conversation, order_id: int) -> Order:
    try:
        return selectors.order_list(user=request.user).get(pk=order_id, conversation=conversation)
    except Order.DoesNotExist as exc:
        raise Http404("No such order") from exc


@login_required
@require_POST
def order_action(request: HttpRequest, conversation_id: int, order_id: int) -> HttpResponse:
    """One button of an order in the panel: ``action`` = summary | awaiting_payment | fulfilled | cancelled |
    refunded | record_payment."""
    conversation = _conversation(request, conversation_id)
    order = _order(request, conversation, order_id)
    name = request.POST.get("action", "")

    def action() -> list[str]:
        if name == "summary":
            return [orders.order_send_summary(user=request.user, order=order).notice]
        if name == "record_payment":
            result = payments.payment_record_manual(
                user=request.user,
                order=order,
                method=request.POST.get("method", ""),
                reference=request.POST.get("reference", ""),
                note=request.POST.get("note", ""),
            )
            return [f"Order #{order.number} marked paid.", *result.notices]
        result = orders.order_transition(user=request.user, order=order, to=name, note=request.POST.get("note", ""))
        return [f"Order #{order.number} is now {result.order.get_status_display().lower()}.", *result.notices]

    return _guard(request, conversation, action)


@login_required
@require_POST
def reservation_create(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """The booking form: ``action`` = hold | confirm (book the picked slot) | propose (send the picked slots)."""
    conversation = _conversation(request, conversation_id)
    post = request.POST

    def action() -> list[str]:
        resource = Resource.objects.filter(
            organization_id=conversation.organization_id, pk=post.get("resource") or 0, active=True
        ).first()
        if resource is None:
            raise ValidationError(gettext("Pick a resource."))
        picked = [parse_when(value) for value in post.getlist("slot") if value]
        if not picked:
            raise ValidationError(gettext("Pick a free time first."))
        if post.get("action") == "propose":
            labels = {s.starts_at: s for s in availability.free_slots(resource=resource, day=picked[0].date())}
            slots = [labels.get(when) or availability.Slot(when, when, when.isoformat()) for when in picked]
            return [
                reservations.reservation_propose_slots(
                    user=request.user, conversation=conversation, resource=resource, slots=slots
                ).notice
            ]
        if len(picked) > 1:
            raise ValidationError(gettext("Pick one time to book (several only to propose)."))
        reservation, outcome = reservations.reservation_hold(
            user=request.user,
            conversation=conversation,
            resource=resource,
            starts_at=picked[0],
            party_size=post.get("party_size") or 1,
            notes=post.get("notes", ""),
            confirm=post.get("action") == "confirm",
        )
        verb = "confirmed" if outcome else f"held until {timezone.localtime(reservation.hold_expires_at):%H:%M}"
        return [f"{resource.name} {verb}.", *([outcome.notice] if outcome else [])]

    return _guard(request, conversation, action)


@login_required
@require_POST
def reservation_action(request: HttpRequest, conversation_id: int, reservation_id: int) -> HttpResponse:
    conversation = _conversation(request, conversation_id)
    try:
        reservation = selectors.reservation_list(user=request.user).get(pk=reservation_id, conversation=conversation)
    except Reservation.DoesNotExist as exc:
        raise Http404("No such reservation") from exc

    def action() -> list[str]:
        updated, outcome = reservations.reservation_transition(
            user=request.user,
            reservation=reservation,
            to=request.POST.get("action", ""),
            reason=request.POST.get("reason", ""),
        )
        return [f"Booking is now {updated.get_status_display().lower()}.", *([outcome.notice] if outcome else [])]

    return _guard(request, conversation, action)
