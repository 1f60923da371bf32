"""Reads for the Connections page: one card per provider with what is connected, granted and received."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Max, Q

from inbox.models import Organization
from integrations.connections import scopes as scope_words
from integrations.connections.endpoints import Endpoints, missing_configuration
from integrations.connections.models import AdvertiserGrant, Connection, ConnectionAudit, Provider
from integrations.models import InboundWebhook

CARD_ORDER = (Provider.TIKTOK, Provider.TIKTOK_ADS, Provider.MESSENGER, Provider.WHATSAPP)
CARD_TEXT = {
    Provider.TIKTOK: "Answer TikTok direct messages from the inbox.",
    Provider.TIKTOK_ADS: "Report conversation events to TikTok for your ads (signals).",
    Provider.MESSENGER: "Answer your Facebook Page's Messenger conversations.",
    Provider.WHATSAPP: "Answer WhatsApp messages to your business number.",
}


@dataclass
class Card:
    provider: str
    title: str
    text: str
    missing: str
    connections: list[Connection] = field(default_factory=list)
    grants: list[AdvertiserGrant] = field(default_factory=list)


def last_webhook_at(channel_id: int) -> datetime | None:
    """The last delivery for this channel, per-channel endpoint or routed from the app-level one."""
    return InboundWebhook.objects.filter(Q(channel_id=channel_id) | Q(routed_channels=channel_id)).aggregate(
        at=Max("received_at")
    )["at"]


def connection_cards(*, organization: Organization, ep: Endpoints) -> list[Card]:
    connections = list(
        Connection.objects.filter(organization=organization)
        .select_related("channel", "connected_by", "disconnected_by")
        .order_by("status", "-connected_at")
    )
    for connection in connections:
        connection.scope_words = scope_words.describe(connection.provider, connection.scopes)  # type: ignore[attr-defined]
        connection.last_webhook_at = last_webhook_at(connection.channel_id)  # type: ignore[attr-defined]
    grants = list(
        AdvertiserGrant.objects.filter(organization=organization)
        .select_related("connected_by", "disconnected_by")
        .order_by("status", "-connected_at")
    )
    for grant in grants:
        grant.scope_words = scope_words.describe(Provider.TIKTOK_ADS, grant.scopes)  # type: ignore[attr-defined]
    cards = []
    for provider in CARD_ORDER:
        card = Card(provider=provider, title=Provider(provider).label, text=CARD_TEXT[provider],
                    missing=missing_configuration(ep, provider))
        if provider == Provider.TIKTOK_ADS:
            card.grants = grants
        else:
            card.connections = [c for c in connections if c.provider == provider]
        cards.append(card)
    return cards


def audit_recent(*, organization: Organization, limit: int = 20) -> list[ConnectionAudit]:
    return list(
        ConnectionAudit.objects.filter(organization=organization).select_related("actor").order_by("-created_at")[:limit]
    )


def card_summary(cards: list[Card]) -> dict[str, Any]:
    return {card.provider: len(card.connections) + len(card.grants) for card in cards}


@dataclass
class ExtraCard:
    """A card another integration puts on the Connections page (the CRM's HubSpot portal), so admins see every
    connected account, and why one stopped, in one place. Managed on ``manage_url``."""

    key: str
    title: str
    text: str
    status: str  # connected, needs_reauthorization, disconnected
    status_label: str
    manage_url: str
    reason: str = ""
    facts: list[tuple[str, str]] = field(default_factory=list)


#: ``source(organization) -> ExtraCard | None``, registered by other apps in their ``AppConfig.ready()``.
_extra_card_sources: list[Callable[[Organization], ExtraCard | None]] = []


def register_extra_card(source: Callable[[Organization], ExtraCard | None]) -> None:
    if source not in _extra_card_sources:
        _extra_card_sources.append(source)


def extra_cards(*, organization: Organization) -> list[ExtraCard]:
    return [card for source in _extra_card_sources if (card := source(organization)) is not None]
