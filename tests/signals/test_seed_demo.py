from __future__ import annotations

import pytest
from django.core.management import call_command

from signals.models import AdvertiserAccount, Keyword, MessageEventRule, TrackingExtractorRule
from tests.factories import OrganizationFactory

pytestmark = [pytest.mark.core, pytest.mark.django_db]


def test_signals_seed_demo_is_idempotent():
    OrganizationFactory(slug="demo-shop")
    call_command("signals_seed_demo")
    counts = (
        AdvertiserAccount.objects.count(),
        Keyword.objects.count(),
        MessageEventRule.objects.count(),
        TrackingExtractorRule.objects.count(),
    )
    call_command("signals_seed_demo")
    assert counts == (
        AdvertiserAccount.objects.count(),
        Keyword.objects.count(),
        MessageEventRule.objects.count(),
        TrackingExtractorRule.objects.count(),
    )
    assert AdvertiserAccount.objects.get().is_sandbox
    assert Keyword.objects.filter(phrase="ชำระเงิน", flag="payment", keyword_list__tiktok_provided=True).exists()
