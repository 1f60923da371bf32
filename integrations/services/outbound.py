"""The outbound path: a queued message goes out through its channel's adapter."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

from inbox.channel_rules import outside_standard_window
from inbox.models import Channel, Message
from inbox.services import messages as message_services
from integrations.channels.base import ChannelSecrets, OutboundMessage, SendError
from integrations.channels.registry import adapter_for
from switchboard import ratelimit
from switchboard.crypto import SecretUnreadable

logger = logging.getLogger(__name__)


CHANNEL_NOT_ACTIVE = {
    Channel.Status.NEEDS_REAUTHORIZATION: "the channel needs reauthorization: an admin must reconnect it on the "
    "Connections page",
    Channel.Status.DISABLED: "the channel is disconnected",
}


@dataclass(frozen=True)
class SendOutcome:
    status: str  # "sent", "failed", "retry", "throttled", "skipped"
    reason: str = ""
    retry_after: float | None = None


def _message_tag(message: Message) -> str:
    """Messenger needs the HUMAN_AGENT tag for a person's reply past the standard 24-hour window."""
    if message.channel.kind == "messenger" and message.sender_user_id and outside_standard_window(message.conversation):
        return "HUMAN_AGENT"
    return ""


def _template(message: Message) -> dict[str, Any] | None:
    """The approved template a message stands for (stored by the inbox as ``metadata["template"]``)."""
    reference = (message.metadata or {}).get("template")
    if not isinstance(reference, dict):
        return None
    return {
        "name": reference.get("name", ""),
        "language": reference.get("language", ""),
        "body_parameters": list(reference.get("parameters") or []),
    }


def outbound_throttle_wait(channel: Channel) -> float:
    """Seconds to wait before this channel may send again under its provider's ``sends_per_second`` (0: now).

    Keyed by channel, i.e. per phone number / page / TikTok account; the counter lives in the shared cache so
    every worker respects the same limit.
    """
    limit = adapter_for(channel.kind).capabilities.sends_per_second
    if not limit:
        return 0.0
    return ratelimit.acquire(f"send:channel:{channel.pk}", limit=limit)


def outbound_send(*, message_id: int, final_attempt: bool = False) -> SendOutcome:
    """Send one queued message. Safe to call twice: only a ``queued`` message is sent.

    Past the channel's send rate the message stays queued and the answer is ``throttled`` with ``retry_after``:
    no attempt is recorded, nothing is sent. A transient failure (timeout, 429, 5xx, throttling) answers
    ``retry`` so the task retries with backoff;
    on the final attempt, or for a permanent failure, the message is marked failed with the provider's reason.

    Two tasks for one message (a retry waiting for its backoff while the sweep enqueues another) never both
    send: on PostgreSQL the message row stays locked for the whole provider call, and a second task finds it
    locked and skips it. A killed worker's lock dies with its connection, so the sweep can send it again.
    """
    if connection.features.has_select_for_update_skip_locked:
        with transaction.atomic():
            return _send(message_id, final_attempt, skip_locked=True)
    # SQLite (the embedded default) has no row locks; there tasks run in-process, one at a time per message.
    return _send(message_id, final_attempt, skip_locked=False)


def _send(message_id: int, final_attempt: bool, *, skip_locked: bool) -> SendOutcome:
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(of=("self",), skip_locked=skip_locked)
            .select_related("conversation__identity", "channel")
            .filter(pk=message_id)
            .first()
        )
        if message is None or message.status != Message.Status.QUEUED:
            return SendOutcome("skipped", "another task is sending it" if message is None else "")
    if message.channel.status != Channel.Status.ACTIVE:
        # Disconnected or awaiting reauthorization (issue 3): refuse before any provider call, saying what to do.
        reason = CHANNEL_NOT_ACTIVE.get(message.channel.status, "the channel is not active")
        message_services.message_mark_failed(message_id=message_id, reason=reason)
        return SendOutcome("failed", reason)
    wait = outbound_throttle_wait(message.channel)
    if wait:
        return SendOutcome("throttled", "waiting for the channel's send rate limit", retry_after=wait)
    message_services.message_record_send_attempt(message_id=message_id)
    channel = message.channel
    template = _template(message)
    if template is not None and not adapter_for(channel.kind).capabilities.templates:
        reason = f"{channel.get_kind_display()} channels have no message templates"
        message_services.message_mark_failed(message_id=message_id, reason=reason)
        return SendOutcome("failed", reason)
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
                template=template,
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
