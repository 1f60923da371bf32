"""Payment providers behind one interface; the active one is chosen by ``settings.COMMERCE_PAYMENT_PROVIDER``."""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from inbox.commerce.payment_providers.base import PaymentProvider

DEFAULT_PROVIDER = "inbox.commerce.payment_providers.fake.FakePaymentProvider"


@cache
def _load(path: str) -> PaymentProvider:
    return import_string(path)()


def get_provider() -> PaymentProvider:
    return _load(getattr(settings, "COMMERCE_PAYMENT_PROVIDER", DEFAULT_PROVIDER))
