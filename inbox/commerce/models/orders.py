"""Orders, their lines, payments and history. The status graph lives in ``inbox.commerce.transitions``."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

from inbox.models import Channel, Contact, Conversation, Organization


class OrderSequence(models.Model):
    """Per-organization order numbers: the row is locked while a number is taken, so numbers never repeat."""

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="+")
    last_number = models.PositiveIntegerField(default=1000)


class Order(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", gettext_lazy("Draft")
        AWAITING_PAYMENT = "awaiting_payment", gettext_lazy("Awaiting payment")
        PAID = "paid", gettext_lazy("Paid")
        FULFILLED = "fulfilled", gettext_lazy("Fulfilled")
        CANCELLED = "cancelled", gettext_lazy("Cancelled")
        REFUNDED = "refunded", gettext_lazy("Refunded")

    OPEN_STATUSES = ("draft", "awaiting_payment", "paid")

    class Delivery(models.TextChoices):
        NONE = "none", gettext_lazy("No delivery")
        SHIPPING = "shipping", gettext_lazy("Shipping")
        PICKUP = "pickup", gettext_lazy("Pickup")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="orders")
    number = models.PositiveIntegerField()
    # Orders are records of money: a conversation or contact with orders cannot be deleted out from under them.
    conversation = models.ForeignKey(Conversation, on_delete=models.PROTECT, related_name="orders")
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="orders")
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    currency = models.CharField(max_length=3)
    delivery = models.CharField(max_length=10, choices=Delivery.choices, default=Delivery.NONE)
    shipping_name = models.CharField(max_length=200, blank=True, default="")
    shipping_address = models.TextField(blank=True, default="")
    shipping_phone = models.CharField(max_length=40, blank=True, default="")
    pickup_location = models.CharField(max_length=200, blank=True, default="")
    pickup_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True, default="")
    discount_percent = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal(0))
    discount_amount = models.DecimalField(max_digits=14, decimal_places=3, default=Decimal(0))
    shipping_fee = models.DecimalField(max_digits=14, decimal_places=3, default=Decimal(0))
    # Stored totals, recomputed by the service whenever a line or a discount changes (never in save()).
    subtotal = models.DecimalField(max_digits=14, decimal_places=3, default=Decimal(0))
    discount_total = models.DecimalField(max_digits=14, decimal_places=3, default=Decimal(0))
    total = models.DecimalField(max_digits=14, decimal_places=3, default=Decimal(0))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)
    stock_reserved = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="order_unique_number_per_org"),
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_not_negative"),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0, discount_percent__lte=100), name="order_discount_percent_range"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "status", "-created_at"], name="order_org_status_recent"),
            models.Index(fields=["conversation", "status"], name="order_conversation_status"),
        ]

    def __str__(self) -> str:
        return f"Order #{self.number}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey("commerce.Product", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Copied from the product when added: a later price change never rewrites an order.
    sku = models.CharField(max_length=64, blank=True, default="")
    name = models.CharField(max_length=200)
    unit_price = models.DecimalField(max_digits=14, decimal_places=3)
    quantity = models.PositiveIntegerField()
    line_total = models.DecimalField(max_digits=14, decimal_places=3)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="orderline_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="orderline_price_not_negative"),
        ]


class OrderEvent(models.Model):
    """The order's history: every status change, payment, message and edit, with who and when."""

    class Kind(models.TextChoices):
        CREATED = "created", gettext_lazy("Created")
        EDITED = "edited", gettext_lazy("Edited")
        TRANSITION = "transition", gettext_lazy("Status changed")
        PAYMENT = "payment", gettext_lazy("Payment")
        MESSAGE = "message", gettext_lazy("Message to the customer")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(max_length=120, blank=True, default="")  # "payment provider fake", "system"
    from_status = models.CharField(max_length=20, blank=True, default="")
    to_status = models.CharField(max_length=20, blank=True, default="")
    detail = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]


class Payment(models.Model):
    """One attempt to collect an order's total: a provider payment link, or a manual record (cash, transfer)."""

    class Method(models.TextChoices):
        LINK = "link", gettext_lazy("Payment link")
        CASH = "cash", gettext_lazy("Cash")
        BANK_TRANSFER = "bank_transfer", gettext_lazy("Bank transfer")

    class Status(models.TextChoices):
        PENDING = "pending", gettext_lazy("Pending")
        SUCCEEDED = "succeeded", gettext_lazy("Succeeded")
        FAILED = "failed", gettext_lazy("Failed")
        CANCELLED = "cancelled", gettext_lazy("Cancelled")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="payments")
    method = models.CharField(max_length=16, choices=Method.choices)
    provider = models.CharField(max_length=40, blank=True, default="")
    reference = models.CharField(max_length=120)
    url = models.URLField(max_length=500, blank=True, default="")
    amount = models.DecimalField(max_digits=14, decimal_places=3)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    failure_reason = models.CharField(max_length=300, blank=True, default="")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    note = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "reference"], name="payment_unique_provider_reference"),
            # An order is paid once: at most one succeeded payment, whatever races between callbacks.
            models.UniqueConstraint(fields=["order"], condition=Q(status="succeeded"), name="payment_one_success"),
        ]


class PaymentCallback(models.Model):
    """Each provider callback processed, by the provider's event id: a redelivery is acknowledged and ignored."""

    provider = models.CharField(max_length=40)
    event_id = models.CharField(max_length=120)
    payment = models.ForeignKey(Payment, null=True, on_delete=models.SET_NULL, related_name="callbacks")
    outcome = models.CharField(max_length=20)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="payment_callback_unique_event"),
        ]
