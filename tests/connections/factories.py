"""Factories for the connections app: a connected TikTok channel as the OAuth flow would leave it."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from inbox.models import Organization
from integrations.connections.models import Connection, Provider
from tests.factories import make_channel


def make_tiktok_connection(
    organization: Organization, *, open_id: str = "biz-open-1", access_token: str = "tt-access-old",
    refresh_token: str = "tt-refresh-old", expires_in: timedelta = timedelta(hours=1), name: str = "Batik House",
) -> Connection:
    channel = make_channel(organization, kind="tiktok", name=name, account_id=open_id, access_token=access_token,
                           extra={"refresh_token": refresh_token})
    return Connection.objects.create(
        organization=organization, provider=Provider.TIKTOK, channel=channel, account_name=name,
        scopes=["message.list.read", "message.list.send"], access_expires_at=timezone.now() + expires_in,
        refresh_expires_at=timezone.now() + timedelta(days=300),
    )
