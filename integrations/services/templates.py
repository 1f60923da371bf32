"""Message templates (WhatsApp approved templates): synced from the provider account, offered to agents and rules.

The provider's list is the truth: a sync upserts every template it returns and deletes the ones it no longer
returns, so a template removed or renamed at Meta disappears from the picker. Only ``APPROVED`` ones are offered.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from inbox.channel_rules import TemplateChoice
from inbox.models import Channel
from integrations.channels.base import ChannelSecrets, SendError
from integrations.channels.registry import adapter_for, known_providers
from integrations.models import MessageTemplate
from switchboard.crypto import SecretUnreadable

logger = logging.getLogger(__name__)


class TemplateSyncError(Exception):
    """The templates could not be fetched; ``str()`` is the reason shown to the admin."""


@dataclass(frozen=True)
class SyncResult:
    total: int
    approved: int
    removed: int


def channel_supports_templates(channel: Channel) -> bool:
    adapter = adapter_for(channel.kind)
    return adapter.capabilities.templates and hasattr(adapter, "fetch_templates")


def templates_sync(*, channel: Channel) -> SyncResult:
    """Fetch every template of the channel's account and store them; raise :class:`TemplateSyncError`.

    The provider call happens outside any transaction; the store is one transaction, so a failed sync leaves
    the previous list in place.
    """
    if not channel_supports_templates(channel):
        raise TemplateSyncError(f"{channel.get_kind_display()} channels have no message templates")
    credential = getattr(channel, "credential", None)
    try:
        secrets = credential.secrets() if credential is not None else ChannelSecrets(account_id=channel.account_id)
        fetched = adapter_for(channel.kind).fetch_templates(secrets)  # type: ignore[attr-defined]
    except (SendError, SecretUnreadable) as exc:
        raise TemplateSyncError(getattr(exc, "reason", str(exc))) from exc
    now = timezone.now()
    unique = {(t.name, t.language): t for t in fetched}
    with transaction.atomic():
        kept: list[int] = []
        for template in unique.values():
            row, _ = MessageTemplate.objects.update_or_create(
                channel=channel,
                name=template.name,
                language=template.language,
                defaults={
                    "status": template.status,
                    "category": template.category,
                    "components": [dict(c) for c in template.components],
                    "body_text": template.body_text,
                    "body_parameter_count": template.body_parameter_count,
                    "synced_at": now,
                },
            )
            kept.append(row.pk)
        removed, _ = MessageTemplate.objects.filter(channel=channel).exclude(pk__in=kept).delete()
    approved = sum(1 for t in unique.values() if t.status == MessageTemplate.APPROVED)
    logger.info(
        "message templates synced",
        extra={"channel_id": channel.pk, "templates": len(unique), "approved": approved, "removed": removed},
    )
    return SyncResult(total=len(unique), approved=approved, removed=removed)


def approved_templates(*, channel: Channel) -> QuerySet[MessageTemplate]:
    return MessageTemplate.objects.filter(channel=channel, status=MessageTemplate.APPROVED).order_by("name", "language")


def approved_template_choices(channel: Channel) -> list[TemplateChoice]:
    """What the inbox offers (registered as ``inbox.channel_rules`` template source)."""
    return [
        TemplateChoice(
            name=t.name,
            language=t.language,
            body_text=t.body_text,
            parameter_count=t.body_parameter_count,
            category=t.category,
        )
        for t in approved_templates(channel=channel)
    ]


def channels_with_templates() -> QuerySet[Channel]:
    """Active channels whose kind has templates: what the periodic sync refreshes."""
    kinds = [kind for kind in known_providers() if adapter_for(kind).capabilities.templates]
    return Channel.objects.filter(kind__in=kinds, status=Channel.Status.ACTIVE)
