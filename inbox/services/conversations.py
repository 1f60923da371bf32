"""Conversations: finding or opening them, attribution, read state, status, assignment, priority."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inbox import events, permissions
from inbox.models import (
    Channel,
    Contact,
    ContactIdentity,
    Conversation,
    ConversationRead,
    Membership,
    Notification,
    Team,
)
from inbox.selectors import conversation_as_dict
from inbox.services.actors import acting_user, actor_payload, check_can_act


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
    # No joins: the identity already holds the channel and the contact (joining them cost more CPU to compile
    # than the rest of the query, on every inbound message).
    locked = Conversation.objects.select_for_update(of=("self",))
    conversation = locked.filter(identity=identity).exclude(status="resolved").first()
    if conversation is not None:
        conversation.identity, conversation.channel, conversation.contact = identity, identity.channel, identity.contact
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
        conversation = locked.exclude(status="resolved").get(identity=identity)
        conversation.identity, conversation.channel, conversation.contact = identity, identity.channel, identity.contact
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
    """The agent opened the conversation: it is read for them (and the shared unread count goes back to zero)."""
    if not permissions.can_view_conversation(user, conversation):
        raise PermissionDenied(_("You do not have access to this conversation."))
    with transaction.atomic():
        conversation_read_by(conversation=conversation, user=user)
        updated = Conversation.objects.filter(pk=conversation.pk, unread_count__gt=0).update(unread_count=0)
        if updated:
            conversation.refresh_from_db()
            events.publish(
                "conversation.updated",
                organization_id=conversation.organization_id,
                conversation=conversation_as_dict(conversation),
            )


def conversation_read_by(*, conversation: Conversation, user: Any) -> None:
    """Record that ``user`` has read everything in ``conversation`` so far (per-agent unread state).

    No permission check: callers (mark read, an agent's reply) have made it. Never moves backwards.
    """
    last_id = conversation.messages.order_by("-id").values_list("id", flat=True).first() or 0
    read, created = ConversationRead.objects.get_or_create(
        conversation_id=conversation.pk, user_id=user.pk, defaults={"last_read_message_id": last_id}
    )
    if not created and read.last_read_message_id < last_id:
        ConversationRead.objects.filter(pk=read.pk, last_read_message_id__lt=last_id).update(
            last_read_message_id=last_id, read_at=timezone.now()
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


# --- working a conversation: status, assignment, priority (single and bulk) -----------------------------------

BULK_LIMIT = 500


class _Unchanged:
    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED: Any = _Unchanged()


def _locked(conversation: Conversation) -> Conversation:
    return Conversation.objects.select_for_update(of=("self",)).get(pk=conversation.pk)


def conversation_publish_updated(*, conversation_id: int, actor: Any = None) -> dict[str, Any]:
    """Publish ``conversation.updated`` with the full dict (labels, assignee, team): call inside the transaction.
    An :class:`~inbox.services.actors.AutomationActor` ``actor`` is named in the event (``actor``)."""
    conversation = (
        Conversation.objects.select_related("channel", "contact", "identity", "assignee", "team")
        .prefetch_related("labels")
        .get(pk=conversation_id)
    )
    payload = conversation_as_dict(conversation)
    by = actor_payload(actor)
    extra = {"actor": by} if by else {}
    events.publish("conversation.updated", organization_id=conversation.organization_id, conversation=payload, **extra)
    return payload


def conversation_set_status(
    *, conversation: Conversation, user: Any, status: str, snoozed_until: datetime | None = None
) -> Conversation:
    """Move a conversation to open, pending, snoozed (until a future time) or resolved.

    A snoozed conversation reopens at ``snoozed_until`` (beat task ``inbox.reopen_snoozed``) or when the
    customer writes. Reopening a resolved conversation fails with ``ValidationError`` when the customer already
    has another unresolved one on that channel (there is at most one).
    """
    check_can_act(user, conversation)
    if status not in Conversation.Status.values:
        raise ValidationError(
            _("Unknown status %(status)s: use one of %(value)s.")
            % {"status": repr(status), "value": ", ".join(Conversation.Status.values)}
        )
    if status == Conversation.Status.SNOOZED:
        if snoozed_until is None or snoozed_until <= timezone.now():
            raise ValidationError(_("Snoozing needs a time in the future to reopen the conversation."))
    else:
        snoozed_until = None
    try:
        with transaction.atomic():
            locked = _locked(conversation)
            if locked.status == status and locked.snoozed_until == snoozed_until:
                return locked
            locked.status, locked.snoozed_until = status, snoozed_until
            locked.save(update_fields=["status", "snoozed_until"])
            conversation_publish_updated(conversation_id=locked.pk, actor=user)
    except IntegrityError as exc:
        raise ValidationError(
            _("This customer already has an unresolved conversation on this channel: continue there.")
        ) from exc
    return locked


def _check_assignee(conversation: Conversation, assignee: Any) -> None:
    if assignee is None:
        return
    membership = Membership.objects.filter(
        user=assignee, organization_id=conversation.organization_id, is_active=True
    ).first()
    if membership is None or not permissions.membership_can_access_channel(membership, conversation.channel_id):
        raise ValidationError(
            _("%(user)s has no access to this conversation’s channel.") % {"user": assignee.get_username()}
        )


def _check_team(conversation: Conversation, team: Team | None) -> None:
    if team is not None and team.organization_id != conversation.organization_id:
        raise ValidationError(_("That team belongs to another organization."))


def conversation_assign(
    *, conversation: Conversation, user: Any, assignee: Any = UNCHANGED, team: Any = UNCHANGED
) -> Conversation:
    """Assign to an agent and/or a team (``None`` unassigns; ``UNCHANGED`` leaves it as it is).

    Anyone who may see the conversation may assign it (self-assign included), but only to a member with access
    to its channel. A newly assigned agent other than ``user`` gets a notification.
    """
    check_can_act(user, conversation)
    if assignee is not UNCHANGED:
        _check_assignee(conversation, assignee)
    if team is not UNCHANGED:
        _check_team(conversation, team)
    with transaction.atomic():
        locked = _locked(conversation)
        changed = []
        if assignee is not UNCHANGED and locked.assignee_id != getattr(assignee, "pk", None):
            locked.assignee = assignee
            changed.append("assignee")
        if team is not UNCHANGED and locked.team_id != getattr(team, "pk", None):
            locked.team = team
            changed.append("team")
        if not changed:
            return locked
        locked.save(update_fields=changed)
        if "assignee" in changed and assignee is not None and assignee.pk != user.pk:
            from inbox.services.notes import notification_create

            notification_create(
                user=assignee, kind=Notification.Kind.ASSIGNED, conversation=locked, actor=acting_user(user), note=None
            )
        conversation_publish_updated(conversation_id=locked.pk, actor=user)
    return locked


def conversation_set_priority(*, conversation: Conversation, user: Any, priority: str) -> Conversation:
    """Set the priority (none, low, medium, high, urgent)."""
    check_can_act(user, conversation)
    if priority not in Conversation.Priority.values:
        raise ValidationError(
            _("Unknown priority %(priority)s: use one of %(value)s.")
            % {"priority": repr(priority), "value": ", ".join(Conversation.Priority.values)}
        )
    with transaction.atomic():
        locked = _locked(conversation)
        if locked.priority != priority:
            locked.priority = priority
            locked.save(update_fields=["priority"])
            conversation_publish_updated(conversation_id=locked.pk, actor=user)
    return locked


def visible_selection(*, user: Any, conversation_ids: list[int]) -> list[Conversation]:
    """The conversations of a bulk selection that ``user`` may see (the others are silently left out)."""
    if len(conversation_ids) > BULK_LIMIT:
        raise ValidationError(_("Select at most %(limit)d conversations at once.") % {"limit": BULK_LIMIT})
    return list(permissions.visible_conversations(user).filter(pk__in=conversation_ids).order_by("id"))


def conversation_bulk_set_status(
    *, user: Any, conversation_ids: list[int], status: str, snoozed_until: datetime | None = None
) -> int:
    """Set the status of every selected conversation the user may see, in one transaction; returns how many.

    A conversation that cannot be reopened (its customer has another open one) is skipped, not fatal.
    """
    if status not in Conversation.Status.values:
        raise ValidationError(
            _("Unknown status %(status)s: use one of %(value)s.")
            % {"status": repr(status), "value": ", ".join(Conversation.Status.values)}
        )
    if status == Conversation.Status.SNOOZED and (snoozed_until is None or snoozed_until <= timezone.now()):
        raise ValidationError(_("Snoozing needs a time in the future to reopen the conversation."))
    done = 0
    with transaction.atomic():
        for conversation in visible_selection(user=user, conversation_ids=conversation_ids):
            try:
                with transaction.atomic():
                    conversation_set_status(
                        conversation=conversation, user=user, status=status, snoozed_until=snoozed_until
                    )
                done += 1
            except ValidationError:
                continue  # its customer has another open conversation: leave this one resolved
    return done


def conversation_bulk_assign(
    *, user: Any, conversation_ids: list[int], assignee: Any = UNCHANGED, team: Any = UNCHANGED
) -> int:
    """Assign every selected conversation the user may see; all or nothing (an invalid assignee fails all)."""
    with transaction.atomic():
        selection = visible_selection(user=user, conversation_ids=conversation_ids)
        for conversation in selection:
            conversation_assign(conversation=conversation, user=user, assignee=assignee, team=team)
    return len(selection)


def conversation_bulk_set_priority(*, user: Any, conversation_ids: list[int], priority: str) -> int:
    with transaction.atomic():
        selection = visible_selection(user=user, conversation_ids=conversation_ids)
        for conversation in selection:
            conversation_set_priority(conversation=conversation, user=user, priority=priority)
    return len(selection)


def conversations_reopen_snoozed(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Reopen snoozed conversations whose time has come (the beat task's work). Returns how many."""
    now = now or timezone.now()
    due = list(
        Conversation.objects.filter(status=Conversation.Status.SNOOZED, snoozed_until__lte=now)
        .order_by("snoozed_until")
        .values_list("id", flat=True)[:limit]
    )
    reopened = 0
    for conversation_id in due:
        with transaction.atomic():
            updated = Conversation.objects.filter(
                pk=conversation_id, status=Conversation.Status.SNOOZED, snoozed_until__lte=now
            ).update(status=Conversation.Status.OPEN, snoozed_until=None)
            if updated:
                conversation_publish_updated(conversation_id=conversation_id)
                reopened += 1
    return reopened
