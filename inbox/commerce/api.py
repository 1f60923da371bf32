"""REST API for orders and reservations (DRF), scoped like the pages by ``visible_conversations``. Thin:
selectors read, services write; a service's ``ValidationError`` is a 400 with its message, never a 500."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from inbox import selectors as inbox_selectors
from inbox.commerce import selectors
from inbox.commerce.models import Order, OrderLine, Reservation, Resource
from inbox.commerce.money import quantize
from inbox.commerce.services import availability, orders, payments, reservations
from inbox.models import Conversation


class MoneyField(serializers.Field):
    """A decimal string quantized to the object's currency (``"150000"`` for IDR, ``"12.50"`` for USD)."""

    def __init__(self, currency_source: str = "currency", **kwargs: Any) -> None:
        self.currency_source = currency_source
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def get_attribute(self, instance: Any) -> Any:
        self._currency = instance
        return super().get_attribute(instance)

    def to_representation(self, value: Any) -> str:
        owner = self._currency
        currency = owner.order.currency if isinstance(owner, OrderLine) else getattr(owner, self.currency_source)
        return str(quantize(value, currency))


class OrderLineSerializer(serializers.ModelSerializer):
    unit_price = MoneyField()
    line_total = MoneyField()

    class Meta:
        model = OrderLine
        fields = ["id", "product_id", "sku", "name", "unit_price", "quantity", "line_total"]


class OrderSerializer(serializers.ModelSerializer):
    lines = OrderLineSerializer(many=True, read_only=True)
    subtotal = MoneyField()
    discount_total = MoneyField()
    shipping_fee = MoneyField()
    total = MoneyField()

    class Meta:
        model = Order
        fields = [
            "id", "number", "status", "currency", "conversation_id", "contact_id", "channel_id", "lines",
            "subtotal", "discount_percent", "discount_total", "shipping_fee", "total", "delivery", "shipping_name",
            "shipping_address", "shipping_phone", "pickup_location", "notes", "created_at", "updated_at", "paid_at",
        ]


class LineInputSerializer(serializers.Serializer):
    product_id = serializers.IntegerField(required=False, allow_null=True)
    sku = serializers.CharField(required=False, allow_blank=True, default="")
    name = serializers.CharField(required=False, allow_blank=True, default="")
    unit_price = serializers.CharField(required=False, allow_null=True, default=None)  # a string: never a float
    quantity = serializers.IntegerField(min_value=1, default=1)


class OrderCreateSerializer(serializers.Serializer):
    conversation_id = serializers.IntegerField()
    currency = serializers.CharField(required=False, allow_blank=True, default="")
    lines = LineInputSerializer(many=True)
    delivery = serializers.ChoiceField(choices=Order.Delivery.choices, default=Order.Delivery.NONE)
    shipping_name = serializers.CharField(required=False, allow_blank=True, default="")
    shipping_address = serializers.CharField(required=False, allow_blank=True, default="")
    shipping_phone = serializers.CharField(required=False, allow_blank=True, default="")
    pickup_location = serializers.CharField(required=False, allow_blank=True, default="")
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    discount_percent = serializers.CharField(required=False, default="0")
    discount_amount = serializers.CharField(required=False, default="0")
    shipping_fee = serializers.CharField(required=False, default="0")


class TransitionSerializer(serializers.Serializer):
    to = serializers.CharField()
    note = serializers.CharField(required=False, allow_blank=True, default="")
    method = serializers.CharField(required=False, allow_blank=True, default="")  # for to=paid: cash|bank_transfer
    reference = serializers.CharField(required=False, allow_blank=True, default="")


class ReservationSerializer(serializers.ModelSerializer):
    resource_name = serializers.CharField(source="resource.name", read_only=True)

    class Meta:
        model = Reservation
        fields = [
            "id", "resource_id", "resource_name", "status", "starts_at", "ends_at", "party_size", "hold_expires_at",
            "contact_id", "conversation_id", "channel_id", "notes", "cancel_reason", "created_at", "updated_at",
        ]


class ReservationCreateSerializer(serializers.Serializer):
    conversation_id = serializers.IntegerField()
    resource_id = serializers.IntegerField()
    starts_at = serializers.DateTimeField()
    party_size = serializers.IntegerField(min_value=1, default=1)
    duration_minutes = serializers.IntegerField(required=False, allow_null=True, default=None)
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    confirm = serializers.BooleanField(default=False)


class Newest(CursorPagination):
    ordering = ("-created_at", "-id")
    page_size = 50


class Soonest(CursorPagination):
    ordering = ("starts_at", "id")
    page_size = 50


def _call(function, **kwargs):  # noqa: ANN001, ANN202
    """Run a service, turning its errors into API errors with the service's words."""
    try:
        return function(**kwargs)
    except DjangoValidationError as exc:
        raise ValidationError({"detail": exc.messages}) from exc
    except DjangoPermissionDenied as exc:
        raise PermissionDenied(str(exc) or None) from exc


def _conversation(request: Request, conversation_id: int) -> Conversation:
    try:
        return inbox_selectors.conversation_get(user=request.user, conversation_id=conversation_id)
    except Conversation.DoesNotExist as exc:
        raise ValidationError({"conversation_id": "No such conversation."}) from exc


def _order(request: Request, order_id: int) -> Order:
    try:
        return selectors.order_get(user=request.user, order_id=order_id)
    except Order.DoesNotExist as exc:
        raise NotFound("No such order.") from exc


def _reservation(request: Request, reservation_id: int) -> Reservation:
    try:
        return selectors.reservation_get(user=request.user, reservation_id=reservation_id)
    except Reservation.DoesNotExist as exc:
        raise NotFound("No such reservation.") from exc


def _with_notices(data: dict[str, Any], outcomes: list[Any]) -> dict[str, Any]:
    data["messages"] = [{"sent": o.sent, "message_id": o.message_id, "notice": o.notice} for o in outcomes if o]
    return data


class OrderListCreate(ListAPIView):
    """GET: orders (filters ``status``, ``channel``, ``conversation``, ``from``, ``to``); POST: a draft order."""

    serializer_class = OrderSerializer
    pagination_class = Newest

    def get_queryset(self):  # type: ignore[no-untyped-def]
        filters = selectors.ListFilters.from_query(self.request.query_params)
        return selectors.order_list(user=self.request.user, filters=filters).prefetch_related("lines")

    def post(self, request: Request) -> Response:
        serializer = OrderCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        conversation = _conversation(request, data.pop("conversation_id"))
        lines = [orders.LineInput(**line) for line in data.pop("lines")]
        currency = data.pop("currency")
        order = _call(orders.order_create, user=request.user, conversation=conversation, currency=currency,
                      lines=lines, details=orders.OrderDetails(**data))
        return Response(OrderSerializer(order).data, status=status.HTTP_201_CREATED)


class OrderDetail(APIView):
    def get(self, request: Request, order_id: int) -> Response:
        return Response(OrderSerializer(_order(request, order_id)).data)


class OrderTransition(APIView):
    """POST ``{"to": "awaiting_payment" | "fulfilled" | "cancelled" | "refunded"}``, or ``{"to": "paid",
    "method": "cash" | "bank_transfer", "reference": "..."}`` to record a manual payment. 400 names the
    allowed moves."""

    def post(self, request: Request, order_id: int) -> Response:
        order = _order(request, order_id)
        serializer = TransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data["to"] == Order.Status.PAID:
            result = _call(payments.payment_record_manual, user=request.user, order=order, method=data["method"],
                           reference=data["reference"], note=data["note"])
        else:
            result = _call(orders.order_transition, user=request.user, order=order, to=data["to"], note=data["note"])
        order = _order(request, order_id)
        return Response(_with_notices(dict(OrderSerializer(order).data), result.outcomes))


class OrderSendSummary(APIView):
    def post(self, request: Request, order_id: int) -> Response:
        order = _order(request, order_id)
        outcome = _call(orders.order_send_summary, user=request.user, order=order)
        return Response(_with_notices(dict(OrderSerializer(order).data), [outcome]))


class ReservationListCreate(ListAPIView):
    """GET: reservations (filters ``status``, ``resource``, ``channel``, ``conversation``, ``from``, ``to``);
    POST: hold (or ``confirm``) a time."""

    serializer_class = ReservationSerializer
    pagination_class = Soonest

    def get_queryset(self):  # type: ignore[no-untyped-def]
        filters = selectors.ListFilters.from_query(self.request.query_params)
        return selectors.reservation_list(user=self.request.user, filters=filters)

    def post(self, request: Request) -> Response:
        serializer = ReservationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        conversation = _conversation(request, data["conversation_id"])
        resource = Resource.objects.filter(organization_id=conversation.organization_id,
                                           pk=data["resource_id"]).first()
        if resource is None:
            raise ValidationError({"resource_id": "No such resource."})
        reservation, outcome = _call(
            reservations.reservation_hold, user=request.user, conversation=conversation, resource=resource,
            starts_at=data["starts_at"], party_size=data["party_size"], duration_minutes=data["duration_minutes"],
            notes=data["notes"], confirm=data["confirm"],
        )
        body = _with_notices(dict(ReservationSerializer(reservation).data), [outcome])
        return Response(body, status=status.HTTP_201_CREATED)


class ReservationDetail(APIView):
    def get(self, request: Request, reservation_id: int) -> Response:
        return Response(ReservationSerializer(_reservation(request, reservation_id)).data)


class ReservationTransition(APIView):
    """POST ``{"to": "confirmed" | "completed" | "no_show" | "cancelled", "note": "reason"}``."""

    def post(self, request: Request, reservation_id: int) -> Response:
        reservation = _reservation(request, reservation_id)
        serializer = TransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        updated, outcome = _call(reservations.reservation_transition, user=request.user, reservation=reservation,
                                 to=serializer.validated_data["to"], reason=serializer.validated_data["note"])
        return Response(_with_notices(dict(ReservationSerializer(updated).data), [outcome]))


class ResourceAvailability(APIView):
    """GET ``?date=YYYY-MM-DD`` (the resource's local date): free slots."""

    def get(self, request: Request, resource_id: int) -> Response:
        resource = selectors.resource_list(user=request.user).filter(pk=resource_id).first()
        if resource is None:
            raise NotFound("No such resource.")
        try:
            day = date.fromisoformat(request.query_params.get("date", ""))
        except ValueError as exc:
            raise ValidationError({"date": "Give a date as YYYY-MM-DD."}) from exc
        slots = availability.free_slots(resource=resource, day=day)
        return Response({"resource_id": resource.pk, "date": day.isoformat(), "slots": [s.as_dict() for s in slots]})
