"""Labels: organization-wide tags managed by admins, applied to conversations by anyone who can see them."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inbox import permissions
from inbox.models import Conversation, ConversationLabel, Label
from inbox.services.actors import acting_user, check_can_act
from inbox.services.conversations import conversation_publish_updated, visible_selection

COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def _check_manager(user: Any, organization_id: int) -> None:
    if not permissions.can_manage_labels(user, organization_id):
        raise PermissionDenied(_("Only owners and admins manage labels."))


def _clean(name: str, colour: str) -> tuple[str, str]:
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise ValidationError(_("A label needs a name of 1 to 60 characters."))
    if not COLOUR.match(colour or ""):
        raise ValidationError(_("A label colour is written #rrggbb, e.g. #0b63c9."))
    return name, colour.lower()


def label_create(
    *, user: Any, organization_id: int, name: str, colour: str = "#6b7280", description: str = ""
) -> Label:
    """Create a label (owners and admins). Names are unique per organization, ignoring case."""
    _check_manager(user, organization_id)
    name, colour = _clean(name, colour)
    try:
        with transaction.atomic():
            return Label.objects.create(
                organization_id=organization_id, name=name, colour=colour, description=(description or "")[:200]
            )
    except IntegrityError as exc:
        raise ValidationError(_("A label named “%(name)s” already exists.") % {"name": name}) from exc


def label_update(
    *, user: Any, label: Label, name: str | None = None, colour: str | None = None, description: str | None = None
) -> Label:
    """Rename or recolour a label; every conversation carrying it shows the change (browsers refresh labels)."""
    _check_manager(user, label.organization_id)
    name, colour = _clean(name if name is not None else label.name, colour if colour is not None else label.colour)
    label.name, label.colour = name, colour
    if description is not None:
        label.description = description[:200]
    try:
        with transaction.atomic():
            label.save(update_fields=["name", "colour", "description"])
    except IntegrityError as exc:
        raise ValidationError(_("A label named “%(name)s” already exists.") % {"name": name}) from exc
    return label


def label_delete(*, user: Any, label: Label) -> None:
    """Delete a label and take it off every conversation."""
    _check_manager(user, label.organization_id)
    label.delete()


def _check_label(conversation: Conversation, label: Label) -> None:
    if label.organization_id != conversation.organization_id:
        raise ValidationError(_("That label belongs to another organization."))


def _lock_conversation(conversation: Conversation) -> None:
    """Lock the conversation's row before writing its links (call inside the transaction that writes them).

    On PostgreSQL a trigger copies every link change into the conversation's row (``label_ids``, migration 0006):
    a link, then the row. A transaction that updated the row earlier (a message, then an automation's label) takes
    them the other way round, and two of them labelling one conversation at once would deadlock; with the row
    first for everyone they queue instead.
    """
    list(Conversation.objects.select_for_update().filter(pk=conversation.pk).values_list("pk", flat=True))


def label_apply(*, user: Any, conversation: Conversation, label: Label) -> bool:
    """Put a label on a conversation; False when it was already there. ``user`` may be an ``AutomationActor``."""
    check_can_act(user, conversation)
    _check_label(conversation, label)
    with transaction.atomic():
        _lock_conversation(conversation)
        _link, created = ConversationLabel.objects.get_or_create(
            conversation=conversation, label=label, defaults={"added_by": acting_user(user), "added_at": timezone.now()}
        )
        if created:
            conversation_publish_updated(conversation_id=conversation.pk, actor=user)
    return created


def label_remove(*, user: Any, conversation: Conversation, label: Label) -> bool:
    """Take a label off a conversation; False when it was not there. ``user`` may be an ``AutomationActor``."""
    check_can_act(user, conversation)
    with transaction.atomic():
        _lock_conversation(conversation)
        deleted, _details = ConversationLabel.objects.filter(conversation=conversation, label=label).delete()
        if deleted:
            conversation_publish_updated(conversation_id=conversation.pk, actor=user)
    return bool(deleted)


def label_bulk_apply(*, user: Any, conversation_ids: list[int], label: Label, remove: bool = False) -> int:
    """Apply (or remove) a label on every selected conversation the user may see; returns how many changed."""
    changed = 0
    with transaction.atomic():
        for conversation in visible_selection(user=user, conversation_ids=conversation_ids):
            if remove:
                changed += label_remove(user=user, conversation=conversation, label=label)
            else:
                changed += label_apply(user=user, conversation=conversation, label=label)
    return changed
