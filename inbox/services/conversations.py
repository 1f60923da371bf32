"""Conversations: finding or opening them, attribution, read state."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from inbox import events, permissions
from inbox.models import Channel, Contact, ContactIdentity, Conversation
from inbox.selectors import conversation_as_dict


def identity_get_or_create(*, channel: Channel, customer_id: str, customer_name: str) -> ContactIdentity:
    """The contact identity of ``customer_id`` on ``channel``, created with its contact if new."""
    identity = (
        ContactIdentity.objects.select_related("contact").filter(channel=channel, external_id=customer_id).first()
    )
    if identity is not None:
        if customer_name and not identity.display_name:
            identity.display_name = customer_name
            identity.save(update_fields=["display_name"])
            if not identity.contact.name:
                Contact.objects.filter(pk=identity.contact_id).update(name=customer_name)
        return identity
    try:
        with transaction.atomic():
            contact = Contact.objects.create(organization_id=channel.organization_id, name=customer_name)
            return ContactIdentity.objects.create(
                contact=contact, channel=channel, external_id=customer_id, display_name=customer_name
            )
    except IntegrityError:
        # Another worker created the same identity a moment ago: use theirs.
        return ContactIdentity.objects.select_related("contact").get(channel=channel, external_id=customer_id)


def conversation_get_or_open(*, identity: ContactIdentity, thread_id: str) -> tuple[Conversation, bool]:
    """The identity's unresolved conversation, or its latest one reopened, or a new one. Locked for update."""
    conversation = Conversation.objects.select_for_update().filter(identity=identity).exclude(status="resolved").first()
    if conversation is not None:
        return conversation, False
    try:
        with transaction.atomic():
            conversation = Conversation.objects.create(
                organization_id=identity.channel.organization_id,
                channel_id=identity.channel_id,
                contact_id=identity.contact_id,
                identity=identity,
                thread_id=thread_id,
            )
            return conversation, True
    except IntegrityError:
        conversation = Conversation.objects.select_for_update().exclude(status="resolved").get(identity=identity)
        return conversation, False


def conversation_record_referral(*, channel: Channel, customer_id: str, referral: Mapping[str, Any]) -> Conversation:
    """Keep an ad referral that arrived without a message (a thread opened from an ad) as attribution.

    The first referral of a conversation wins; later ones never overwrite it.
    """
    with transaction.atomic():
        identity = identity_get_or_create(channel=channel, customer_id=customer_id, customer_name="")
        conversation, created = conversation_get_or_open(identity=identity, thread_id="")
        if conversation.referral is None:
            conversation.referral = dict(referral)
            conversation.save(update_fields=["referral"])
        payload = conversation_as_dict(conversation)
        events.publish(
            "conversation.opened" if created else "conversation.updated",
            organization_id=channel.organization_id,
            conversation=payload,
        )
    return conversation


def conversation_mark_read(*, conversation: Conversation, user: Any) -> None:
    """The agent opened the conversation: its unread count goes back to zero."""
    if not permissions.can_view_conversation(user, conversation):
        raise PermissionDenied("You do not have access to this conversation.")
    with transaction.atomic():
        updated = Conversation.objects.filter(pk=conversation.pk, unread_count__gt=0).update(unread_count=0)
        if updated:
            conversation.refresh_from_db()
            events.publish(
                "conversation.updated",
                organization_id=conversation.organization_id,
                conversation=conversation_as_dict(conversation),
            )
