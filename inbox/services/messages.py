"""Receiving, sending and tracking messages."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from inbox import events, permissions
from inbox.models import Channel, Conversation, Message
from inbox.selectors import conversation_as_dict, message_as_dict, message_preview
from inbox.services.conversations import conversation_get_or_open, conversation_read_by, identity_get_or_create

logger = logging.getLogger(__name__)

STATUS_RANK = Message.STATUS_RANK


@dataclass(frozen=True)
class ReceiveResult:
    message: Message
    created: bool
    conversation_created: bool = False


def message_receive_inbound(
    *,
    channel: Channel,
    customer_id: str,
    external_id: str,
    sent_at: datetime,
    direction: str = Message.Direction.INBOUND,
    kind: str = "text",
    text: str = "",
    customer_name: str = "",
    thread_id: str = "",
    attachments: Sequence[Mapping[str, Any]] = (),
    metadata: Mapping[str, Any] | None = None,
    referral: Mapping[str, Any] | None = None,
    reply_to_external_id: str = "",
) -> ReceiveResult:
    """Store a message from a channel: contact, conversation and message upserted in one transaction.

    Idempotent on ``(channel, external_id)``: the same provider message delivered twice yields one message and
    ``created=False`` the second time. Outbound echoes (a business message sent from the provider's own app)
    are stored once too: a message Switchboard sent already carries that ``external_id``. A conversation's
    attribution (``referral``) is set by its first referral and never overwritten.
    """
    if not customer_id or not external_id:
        raise ValidationError(_("a message needs the customer's id and the provider's message id"))
    text = text.replace("\x00", "")  # PostgreSQL text cannot hold NUL; no provider means one
    with transaction.atomic():
        existing = Message.objects.filter(channel=channel, external_id=external_id).first()
        if existing is not None:
            return ReceiveResult(existing, created=False)
        if direction == Message.Direction.OUTBOUND:
            own = _claim_own_echo(channel=channel, customer_id=customer_id, external_id=external_id, text=text)
            if own is not None:
                return ReceiveResult(own, created=False)
        identity = identity_get_or_create(channel=channel, customer_id=customer_id, customer_name=customer_name)
        conversation, conversation_created = conversation_get_or_open(identity=identity, thread_id=thread_id)
        inbound = direction == Message.Direction.INBOUND
        try:
            with transaction.atomic():
                message = Message.objects.create(
                    conversation=conversation,
                    channel=channel,
                    direction=direction,
                    sender_type=Message.SenderType.CONTACT if inbound else Message.SenderType.PROVIDER_ECHO,
                    kind=kind,
                    body=text,
                    attachments=[dict(a) for a in attachments],
                    metadata=dict(metadata or {}),
                    external_id=external_id,
                    reply_to_external_id=reply_to_external_id,
                    status=Message.Status.RECEIVED if inbound else Message.Status.SENT,
                    sent_at=sent_at,
                )
        except IntegrityError:
            # The same delivery is being processed concurrently and won the race.
            return ReceiveResult(Message.objects.get(channel=channel, external_id=external_id), created=False)

        changed = ["last_message_at", "last_message_preview"]
        conversation.last_message_at = max(conversation.last_message_at, message.created_at)
        conversation.last_message_preview = message_preview(message)
        if thread_id and not conversation.thread_id:
            conversation.thread_id = thread_id
            changed.append("thread_id")
        if inbound:
            conversation.last_inbound_at = max(filter(None, [conversation.last_inbound_at, sent_at]))
            conversation.unread_count += 1  # the row is locked: plain arithmetic is safe
            conversation.outbound_since_inbound = 0
            conversation.last_inbound_message_id = message.pk
            changed += ["last_inbound_at", "unread_count", "outbound_since_inbound", "last_inbound_message_id"]
            if conversation.status in (Conversation.Status.SNOOZED, Conversation.Status.PENDING):
                conversation.status = Conversation.Status.OPEN
                conversation.snoozed_until = None
                changed += ["status", "snoozed_until"]
        else:
            conversation.outbound_since_inbound += 1
            changed.append("outbound_since_inbound")
        if referral and conversation.referral is None:
            conversation.referral = dict(referral)
            changed.append("referral")
        conversation.save(update_fields=changed)

        if conversation_created:
            events.publish(
                "conversation.opened",
                organization_id=channel.organization_id,
                conversation=conversation_as_dict(conversation),
            )
        events.publish(
            "message.received" if inbound else "message.sent",
            organization_id=channel.organization_id,
            message=message_as_dict(message),
            conversation=conversation_as_dict(conversation),
        )
        return ReceiveResult(message, created=True, conversation_created=conversation_created)


ECHO_MATCH_WINDOW = timedelta(minutes=10)


def _claim_own_echo(*, channel: Channel, customer_id: str, external_id: str, text: str) -> Message | None:
    """The echo of a message Switchboard sent can arrive before the send task stored the provider's id.

    Then the echo is our own queued (or just sent, id-less) message: give it the provider id instead of storing the
    text a second time. Matches the oldest such message with the same text in this customer's conversation.
    """
    candidate = (
        Message.objects.select_for_update(of=("self",))
        .filter(
            channel=channel,
            conversation__identity__external_id=customer_id,
            direction=Message.Direction.OUTBOUND,
            external_id__isnull=True,
            body=text,
            created_at__gte=timezone.now() - ECHO_MATCH_WINDOW,
        )
        .exclude(status=Message.Status.FAILED)
        .order_by("id")
        .first()
    )
    if candidate is None:
        return None
    candidate.external_id = external_id
    candidate.save(update_fields=["external_id"])
    return candidate


def message_send_reply(
    *, conversation: Conversation, user: Any, text: str, template: Mapping[str, Any] | None = None
) -> Message:
    """Queue an agent's reply. The channel's adapter sends it in a task; its status is broadcast as it changes.

    Raises ``PermissionDenied`` when the user cannot see the conversation and ``ValidationError`` for an empty
    reply or one the channel does not allow now (closed reply window, quota, length). The message is stored as
    ``queued`` first, so a crash between storing and sending loses nothing: the sweep re-enqueues queued messages.

    ``template`` (``{"name", "language", "parameters": [...]}``) sends an approved message template instead of
    ``text`` (WhatsApp, also past the 24-hour window); the message's body is the template's rendered text.
    """
    if template is not None:
        permissions.check_can_reply(user, conversation)
        return _queue_outbound(
            conversation=conversation,
            text="",
            sender_type=Message.SenderType.AGENT,
            user=user,
            metadata={},
            template=template,
        )
    text = (text or "").strip()
    if not text:
        raise ValidationError(_("A reply cannot be empty."))
    permissions.check_can_reply(user, conversation)
    text = permissions.fill_pii_placeholders(text, conversation.contact)  # issue 5: see canned_reply_render
    return _queue_outbound(
        conversation=conversation, text=text, sender_type=Message.SenderType.AGENT, user=user, metadata={}
    )


def message_send_automated(
    *,
    conversation: Conversation,
    text: str,
    sender_type: str = Message.SenderType.AUTOMATION,
    metadata: dict[str, Any] | None = None,
    template: Mapping[str, Any] | None = None,
) -> Message:
    """Queue a message Switchboard sends on its own (auto-reply, order confirmation, reminder).

    No user permission applies; the channel's rules do (``ValidationError`` when it cannot be sent now).
    ``metadata`` says what produced it (e.g. ``{"automation": {"rule_id": 3, "version": 2}}``) and is kept on the
    message so the thread and the audit log show it was automated. Marks the conversation neither read nor unread.
    ``template`` as for :func:`message_send_reply` (then ``text`` is ignored).
    """
    if template is not None:
        return _queue_outbound(
            conversation=conversation,
            text="",
            sender_type=sender_type,
            user=None,
            metadata=dict(metadata or {}),
            template=template,
        )
    text = (text or "").strip()
    if not text:
        raise ValidationError(_("An automated message cannot be empty."))
    return _queue_outbound(
        conversation=conversation, text=text, sender_type=sender_type, user=None, metadata=dict(metadata or {})
    )


def _queue_outbound(
    *,
    conversation: Conversation,
    text: str,
    sender_type: str,
    user: Any,
    metadata: dict[str, Any],
    template: Mapping[str, Any] | None = None,
) -> Message:
    from inbox.channel_rules import check_can_send, template_prepare  # rules registered by integrations

    with transaction.atomic():
        conversation = (
            Conversation.objects.select_for_update(of=("self",))
            .select_related("channel", "contact", "identity")
            .get(pk=conversation.pk)
        )
        if template is None:
            check_can_send(conversation, text, human=user is not None)
        else:
            # The template's own text is what the customer reads, so it is the message body; the outbound
            # path finds the template to send in the metadata.
            reference = _template_reference(template)
            text = template_prepare(conversation, **reference)
            metadata = {**metadata, "template": reference}
        message = Message.objects.create(
            conversation=conversation,
            channel_id=conversation.channel_id,
            direction=Message.Direction.OUTBOUND,
            sender_type=sender_type,
            sender_user=user,
            body=text,
            metadata=metadata,
            status=Message.Status.QUEUED,
        )
        conversation.last_message_at = message.created_at
        conversation.last_message_preview = message_preview(message)
        conversation.outbound_since_inbound += 1
        fields = ["last_message_at", "last_message_preview", "outbound_since_inbound"]
        if user is not None:  # an agent answering has read the conversation
            conversation.unread_count = 0
            fields.append("unread_count")
        conversation.save(update_fields=fields)
        if user is not None:
            conversation_read_by(conversation=conversation, user=user)
        events.publish(
            "message.sent",
            organization_id=conversation.organization_id,
            message=message_as_dict(message),
            conversation=conversation_as_dict(conversation),
        )
    return message


def _template_reference(template: Mapping[str, Any]) -> dict[str, Any]:
    """``{"name", "language", "parameters"}`` from what a caller passed, or ``ValidationError``."""
    name, language = template.get("name"), template.get("language")
    parameters = template.get("parameters") or []
    if not isinstance(name, str) or not name.strip() or not isinstance(language, str) or not language.strip():
        raise ValidationError(_("Pick a template (its name and language)."))
    if not isinstance(parameters, list | tuple) or not all(isinstance(p, str | int | float) for p in parameters):
        raise ValidationError(_("The template's variables must be a list of texts."))
    return {"name": name.strip(), "language": language.strip(), "parameters": [str(p).strip() for p in parameters]}


def _publish_status(message: Message) -> None:
    events.publish(
        "message.status_changed",
        organization_id=message.conversation.organization_id,
        message=message_as_dict(message),
        conversation_id=message.conversation_id,
        channel_id=message.channel_id,
    )


def message_mark_sent(*, message_id: int, external_id: str, sent_at: datetime | None = None) -> Message:
    """Record the provider's id for a queued message. A receipt that already moved it further is kept."""
    with transaction.atomic():
        message = Message.objects.select_for_update(of=("self",)).select_related("conversation").get(pk=message_id)
        message.external_id = external_id
        message.sent_at = sent_at or timezone.now()
        fields = ["external_id", "sent_at"]
        if STATUS_RANK[message.status] < STATUS_RANK["sent"]:
            message.status = Message.Status.SENT
            message.error_reason = ""
            fields += ["status", "error_reason"]
        message.save(update_fields=fields)
        _publish_status(message)
    return message


def message_mark_failed(*, message_id: int, reason: str) -> Message:
    """Record why a message could not be sent, in words an agent understands."""
    with transaction.atomic():
        message = Message.objects.select_for_update(of=("self",)).select_related("conversation").get(pk=message_id)
        if message.status not in (Message.Status.QUEUED, Message.Status.SENT):
            return message
        message.status = Message.Status.FAILED
        message.error_reason = reason[:500]
        message.save(update_fields=["status", "error_reason"])
        _publish_status(message)
    return message


def message_record_send_attempt(*, message_id: int) -> int:
    Message.objects.filter(pk=message_id).update(send_attempts=F("send_attempts") + 1)
    return Message.objects.values_list("send_attempts", flat=True).get(pk=message_id)


def message_apply_status(
    *, channel: Channel, external_id: str, status: str, at: datetime, error: str = ""
) -> Message | None:
    """Apply a delivery receipt. Statuses only move forward: a late ``delivered`` never undoes ``read``.

    Returns None when no message of this channel has that id (a receipt for a message sent outside
    Switchboard before it was connected); the caller records that on the webhook.
    """
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(of=("self",))
            .select_related("conversation")
            .filter(channel=channel, external_id=external_id)
            .first()
        )
        if message is None or message.direction != Message.Direction.OUTBOUND:
            return None
        current = message.status
        if status == Message.Status.FAILED:
            if current not in (Message.Status.QUEUED, Message.Status.SENT):
                return message
            message.error_reason = (error or "the provider reported a failure")[:500]
        elif STATUS_RANK.get(status, -1) <= STATUS_RANK[current] or current == Message.Status.FAILED:
            return message
        message.status = status
        if status == Message.Status.DELIVERED:
            message.delivered_at = at
        elif status == Message.Status.READ:
            message.read_at = at
            message.delivered_at = message.delivered_at or at
        message.save(update_fields=["status", "error_reason", "delivered_at", "read_at"])
        _publish_status(message)
    return message


def messages_mark_read_until(*, channel: Channel, customer_id: str, up_to: datetime) -> int:
    """The customer read every business message up to ``up_to`` (a read watermark)."""
    ids = list(
        Message.objects.filter(
            channel=channel,
            conversation__identity__external_id=customer_id,
            direction=Message.Direction.OUTBOUND,
            status__in=[Message.Status.SENT, Message.Status.DELIVERED],
            sent_at__lte=up_to,
        ).values_list("external_id", flat=True)
    )
    for external_id in ids:
        message_apply_status(channel=channel, external_id=external_id, status=Message.Status.READ, at=up_to)
    return len(ids)
