"""Selectors read: querysets scoped by the permission policy, and the dicts sent to browsers."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from inbox import permissions
from inbox.models import Conversation, Message


def message_preview(message: Message) -> str:
    return (message.body or f"[{message.kind}]")[:160]


def message_as_dict(message: Message) -> dict[str, Any]:
    return {
        "id": message.pk,
        "conversation_id": message.conversation_id,
        "channel_id": message.channel_id,
        "direction": message.direction,
        "sender_type": message.sender_type,
        "sender_name": message.sender_user.get_username() if message.sender_user_id else "",
        "kind": message.kind,
        "body": message.body,
        "attachments": message.attachments,
        "status": message.status,
        "error_reason": message.error_reason,
        "created_at": message.created_at,
    }


def conversation_as_dict(conversation: Conversation) -> dict[str, Any]:
    return {
        "id": conversation.pk,
        "channel_id": conversation.channel_id,
        "channel_kind": conversation.channel.kind,
        "channel_name": conversation.channel.name,
        "contact_name": conversation.contact.name or conversation.identity.display_name or "Customer",
        "status": conversation.status,
        "priority": conversation.priority,
        "assignee_id": conversation.assignee_id,
        "unread_count": conversation.unread_count,
        "last_message_at": conversation.last_message_at,
        "preview": conversation.last_message_preview,
        "tracking_id": conversation.tracking_id,
    }


def conversation_list(*, user: Any, status: str | None = None, channel_id: int | None = None) -> QuerySet[Conversation]:
    """Conversations the user may see, most recent first (indexed on organization, status, time)."""
    conversations = permissions.visible_conversations(user).select_related("channel", "contact", "identity")
    if status:
        conversations = conversations.filter(status=status)
    if channel_id:
        conversations = conversations.filter(channel_id=channel_id)
    return conversations.order_by("-last_message_at", "-id")


def conversation_get(*, user: Any, conversation_id: int) -> Conversation:
    """One conversation the user may see; ``Conversation.DoesNotExist`` otherwise (never reveal existence)."""
    return (
        permissions.visible_conversations(user).select_related("channel", "contact", "identity").get(pk=conversation_id)
    )


def message_list(*, conversation: Conversation, after_id: int | None = None, limit: int = 200) -> list[Message]:
    messages = conversation.messages.select_related("sender_user").order_by("-id")
    if after_id:
        messages = messages.filter(id__gt=after_id)
    return list(reversed(messages[:limit]))
