"""The outbound path: a queued message goes out through its channel's adapter."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction

from inbox.channel_rules import outside_standard_window
from inbox.models import Message
from inbox.services import messages as message_services
from integrations.channels.base import ChannelSecrets, OutboundMessage, SendError
from integrations.channels.registry import adapter_for
from switchboard.crypto import SecretUnreadable

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendOutcome:
    status: str  # "sent", "failed", "retry", "skipped"
    reason: str = ""
    retry_after: float | None = None


def _message_tag(message: Message) -> str:
    """Messenger needs the HUMAN_AGENT tag for a person's reply past the standard 24-hour window."""
    if message.channel.kind == "messenger" and message.sender_user_id and outside_standard_window(message.conversation):
        return "HUMAN_AGENT"
    return ""


def outbound_send(*, message_id: int, final_attempt: bool = False) -> SendOutcome:
    """Send one queued message. Safe to call twice: only a ``queued`` message is sent.

    A transient failure (timeout, 429, 5xx, throttling) answers ``retry`` so the task retries with backoff;
    on the final attempt, or for a permanent failure, the message is marked failed with the provider's reason.
    """
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(of=("self",))
            .select_related("conversation__identity", "channel")
            .filter(pk=message_id)
            .first()
        )
        if message is None or message.status != Message.Status.QUEUED:
            return SendOutcome("skipped")
    message_services.message_record_send_attempt(message_id=message_id)
    channel = message.channel
    try:
        credential = getattr(channel, "credential", None)
        secrets = credential.secrets() if credential is not None else ChannelSecrets(account_id=channel.account_id)
        result = adapter_for(channel.kind).send(
            secrets,
            OutboundMessage(
                customer_id=message.conversation.identity.external_id,
                thread_id=message.conversation.thread_id,
                text=message.body,
                reply_to_external_id=message.reply_to_external_id,
                tag=_message_tag(message),
                client_ref=str(message.pk),
            ),
        )
    except SecretUnreadable as exc:
        message_services.message_mark_failed(message_id=message_id, reason=str(exc))
        return SendOutcome("failed", str(exc))
    except SendError as exc:
        if exc.retryable and not final_attempt:
            logger.info("send will be retried", extra={"message_id": message_id, "reason": exc.reason})
            return SendOutcome("retry", exc.reason, exc.retry_after)
        message_services.message_mark_failed(message_id=message_id, reason=exc.reason)
        return SendOutcome("failed", exc.reason)
    message_services.message_mark_sent(message_id=message_id, external_id=result.external_id)
    return SendOutcome("sent")
