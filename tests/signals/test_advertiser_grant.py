"""An advertiser authorized on the Connections page becomes the account signals deliver to, and stops with it."""

from __future__ import annotations

import pytest
from django.db import transaction

from inbox import events
from signals.models import AdvertiserAccount
from signals.services.accounts import access_token
from switchboard.crypto import encrypt_json
from tests.factories import OrganizationFactory

pytestmark = [pytest.mark.django_db, pytest.mark.core]


def test_connected_grant_becomes_a_delivering_account_and_disconnect_stops_it():
    organization = OrganizationFactory()
    token = encrypt_json({"access_token": "adv-token-1"})
    with transaction.atomic():
        events.publish("advertiser.connected", organization_id=organization.pk, grant_id=7, advertiser_id="7001",
                       advertiser_ids=["7001", "7002"], event_set_id="ES123", scope=["event.track"],
                       access_token_encrypted=token)
    account = AdvertiserAccount.objects.get(organization=organization, grant_id=7)
    assert account.delivers and account.event_set_id == "ES123" and access_token(account) == "adv-token-1"

    with transaction.atomic():  # the admin picks another event set: the same account is re-pointed
        events.publish("advertiser.connected", organization_id=organization.pk, grant_id=7, advertiser_id="7002",
                       advertiser_ids=["7001", "7002"], event_set_id="ES999", scope=[], access_token_encrypted=token)
    assert AdvertiserAccount.objects.filter(organization=organization).count() == 1
    assert AdvertiserAccount.objects.get(grant_id=7).event_set_id == "ES999"

    with transaction.atomic():
        events.publish("advertiser.disconnected", organization_id=organization.pk, grant_id=7,
                       advertiser_ids=["7001"], scope=[])
    assert not AdvertiserAccount.objects.get(grant_id=7).delivers
