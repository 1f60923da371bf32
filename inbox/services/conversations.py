"""Conversations: finding or opening them, attribution, read state."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from inbox import events, permissions
from inbox.models import Channel, Contact, ContactIdentity, Conversation
from inbox.selectors import conversation_as_dict


def identity_get_or_create(*, channel: Channel, customer_id: str, customer_name: str) -> ContactIdentity:
    """The contact identity of ``customer_id`` on ``channel``, created with its contact if new."""
    identity = (
        ContactIdentity.objects.select_related("contact").filter(channel=channel, external_id=customer_id).first()
    )
    if identity is not None:
        identity.channel = channel  # spare the query when the conversation is opened from it
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
        return ContactIdentity.objects.select_related("contact", "channel").get(
            channel=channel, external_id=customer_id
        )


def conversation_get_or_open(*, identity: ContactIdentity, thread_id: str) -> tuple[Conversation, bool]:
    """The identity's unresolved conversation, or a new one; locked for update until the transaction ends."""
    locked = Conversation.objects.select_for_update(of=("self",)).select_related("channel", "contact", "identity")
    conversation = locked.filter(identity=identity).exclude(status="resolved").first()
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
            conversation.channel, conversation.contact = identity.channel, identity.contact
            return conversation, True
    except IntegrityError:
        return locked.exclude(status="resolved").get(identity=identity), False


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


def conversation_set_attribution(
    *, conversation_id: int, tracking_id: str, ad_id: str = "", campaign_id: str = ""
) -> bool:
    """Attribute a conversation to the campaign that started it. The first attribution wins for good.

    Returns False when the conversation was already attributed (later matches never overwrite). Meant to be
    called from an in-transaction subscriber (``signals``), so it joins the transaction that stored the message.
    """
    with transaction.atomic():
        updated = Conversation.objects.filter(pk=conversation_id, attributed_at__isnull=True).update(
            tracking_id=tracking_id[:191],
            ad_id=ad_id[:191],
            campaign_id=campaign_id[:191],
            attributed_at=timezone.now(),
        )
        if updated:
            conversation = Conversation.objects.select_related("channel", "contact", "identity").get(pk=conversation_id)
            events.publish(
                "conversation.updated",
                organization_id=conversation.organization_id,
                conversation=conversation_as_dict(conversation),
            )
    return bool(updated)
