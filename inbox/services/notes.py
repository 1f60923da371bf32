"""Private notes in a conversation's thread, @mentions, and the notifications they raise."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from inbox import events, permissions, realtime
from inbox.models import Conversation, Membership, Note, Notification
from inbox.selectors import note_as_dict
from inbox.services.actors import acting_user, actor_payload, automation_metadata, check_can_act

# "@ana" or "@ana.putri": usernames as Django allows them (letters, digits, @.+-_), ending on a word character.
MENTION = re.compile(r"(?<![\w@])@([\w.+-]*\w)")
MAX_NOTE_LENGTH = 5000


def mentioned_usernames(body: str) -> list[str]:
    """The distinct usernames a note mentions, in order of appearance."""
    seen: dict[str, None] = {}
    for match in MENTION.finditer(body):
        seen.setdefault(match.group(1).lower(), None)
    return list(seen)


def notification_as_dict(notification: Notification) -> dict[str, Any]:
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "conversation_id": notification.conversation_id,
        "note_id": notification.note_id,
        "actor_name": notification.actor.get_username() if notification.actor_id else "",
        "excerpt": notification.note.body[:140] if notification.note_id else "",
        "created_at": notification.created_at,
        "read_at": notification.read_at,
    }


def notification_create(
    *, user: Any, kind: str, conversation: Conversation, actor: Any, note: Note | None
) -> Notification:
    """Store a notification and send it to the user's browsers after commit (their personal group)."""
    notification = Notification.objects.create(
        user=user,
        organization_id=conversation.organization_id,
        kind=kind,
        conversation=conversation,
        note=note,
        actor=actor,
    )
    realtime.emit(
        organization_id=conversation.organization_id,
        name="notification.created",
        payload={"notification": notification_as_dict(notification)},
        user_id=user.pk,
    )
    return notification


def note_add(*, user: Any, conversation: Conversation, body: str) -> Note:
    """Add a private note. Each ``@username`` of a member who can see the conversation is notified.

    Mentions of people who cannot see the conversation (or are not members) are left as plain text: a note
    never leaks a conversation to someone outside its channel. ``user`` may be an ``AutomationActor`` (the note
    then has no author; its event names the rule).
    """
    check_can_act(user, conversation)
    body = (body or "").strip()
    if not body:
        raise ValidationError(_("A note cannot be empty."))
    if len(body) > MAX_NOTE_LENGTH:
        raise ValidationError(_("A note has at most %(limit)d characters.") % {"limit": MAX_NOTE_LENGTH})
    usernames = mentioned_usernames(body)
    candidates = []
    if usernames:
        named = Q()
        for username in usernames:
            named |= Q(username__iexact=username)
        candidates = list(
            get_user_model().objects.filter(
                named,
                memberships__organization_id=conversation.organization_id,
                memberships__is_active=True,
            )
        )
    mentioned = [u for u in candidates if u.pk != user.pk and permissions.can_view_conversation(u, conversation)]
    with transaction.atomic():
        note = Note.objects.create(
            conversation=conversation, author=acting_user(user), body=body, metadata=automation_metadata(user)
        )
        note.mentions.set(mentioned)
        for person in mentioned:
            notification_create(
                user=person,
                kind=Notification.Kind.MENTION,
                conversation=conversation,
                actor=acting_user(user),
                note=note,
            )
        payload = note_as_dict(note)
        payload["channel_id"] = conversation.channel_id
        by = actor_payload(user)
        extra = {"actor": by} if by else {}
        events.publish("note.created", organization_id=conversation.organization_id, note=payload, **extra)
    return note


def notifications_mark_read(*, user: Any, notification_ids: list[int] | None = None) -> int:
    """Mark the user's notifications read (all unread ones when ``notification_ids`` is None)."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=notification_ids)
    return unread.update(read_at=timezone.now())


def check_member(user: Any, organization_id: int) -> Membership:
    membership = permissions.active_membership(user, organization_id)
    if membership is None:
        raise PermissionDenied(_("You are not a member of this organization."))
    return membership
