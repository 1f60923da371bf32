"""Factories for commerce models. Orders are made through the service (totals and numbers are its job)."""

from __future__ import annotations

from decimal import Decimal

import factory

from inbox.commerce.models import Product, Resource
from inbox.commerce.models.reservations import WEEKDAYS
from tests.factories import OrganizationFactory


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    organization = factory.SubFactory(OrganizationFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n}")
    name = factory.Sequence(lambda n: f"Batik {n}")
    price = Decimal("150000")
    currency = "IDR"
    stock = None


class ResourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Resource

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Table {n}")
    capacity = 4
    time_zone = "UTC"
    slot_minutes = 60
    buffer_minutes = 0
    # Open every day, all day: tests pick any future hour without fighting the calendar.
    opening_hours = factory.LazyFunction(lambda: {day: [["00:00", "24:00"]] for day in WEEKDAYS})
