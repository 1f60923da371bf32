"""The catalog: products and services an organization sells, and CSV imports of them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

from inbox.models import Organization


class Product(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="products")
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    price = models.DecimalField(max_digits=14, decimal_places=3)
    currency = models.CharField(max_length=3)
    # None: not tracked (services, made to order); a number: units left, never below zero.
    stock = models.PositiveIntegerField(null=True, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "sku"], name="product_unique_sku_per_org"),
            models.CheckConstraint(condition=Q(price__gte=0), name="product_price_not_negative"),
        ]
        indexes = [models.Index(fields=["organization", "active", "name"], name="product_org_active_name")]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class CatalogImport(models.Model):
    """One CSV upload: its rows are applied in a task; progress and per-row results are kept for the page."""

    class Status(models.TextChoices):
        PENDING = "pending", gettext_lazy("Waiting")
        RUNNING = "running", gettext_lazy("Importing")
        DONE = "done", gettext_lazy("Done")
        FAILED = "failed", gettext_lazy("Failed")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="catalog_imports")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    filename = models.CharField(max_length=200, blank=True, default="")
    content = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    # [{"row": 3, "sku": "A1", "result": "created"|"updated"|"error", "message": "..."}], in row order.
    results = models.JSONField(default=list, blank=True)
    error = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    @property
    def error_count(self) -> int:
        return sum(1 for r in self.results if r.get("result") == "error")

    @property
    def percent(self) -> int:
        return 100 if not self.total_rows else int(100 * self.processed_rows / self.total_rows)
