"""Tokens are encrypted at rest with FIELD_ENCRYPTION_KEY, and survive a key rotation."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from integrations.connections.models import AdvertiserGrant
from tests.connections.factories import make_tiktok_connection
from tests.factories import OrganizationFactory

pytestmark = [pytest.mark.core, pytest.mark.django_db]


def test_tokens_are_never_stored_in_clear_and_rotate_with_the_key_list(settings):
    organization = OrganizationFactory()
    grant = AdvertiserGrant(organization=organization, advertiser_ids=["7001"])
    grant.store_token("ads-secret-token")
    grant.save()
    connection = make_tiktok_connection(organization, access_token="tt-secret-access")
    assert "ads-secret-token" not in grant.encrypted
    assert "tt-secret-access" not in connection.channel.credential.encrypted
    old_key = settings.FIELD_ENCRYPTION_KEY
    settings.FIELD_ENCRYPTION_KEY = f"{Fernet.generate_key().decode()},{old_key}"  # the new key first
    grant.refresh_from_db()
    assert grant.access_token() == "ads-secret-token"  # the old key still decrypts
    grant.store_token(grant.access_token())
    grant.save()
    settings.FIELD_ENCRYPTION_KEY = settings.FIELD_ENCRYPTION_KEY.split(",")[0]  # the old key retired
    grant.refresh_from_db()
    assert grant.access_token() == "ads-secret-token"  # re-encrypted with the new key
