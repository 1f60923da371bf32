"""Contacts: the editable fields agents keep up to date from the contact sidebar."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from inbox import events, permissions
from inbox.models import Contact
from inbox.selectors import conversation_as_dict


def contact_update(*, user: Any, contact: Contact, name: str, phone: str, email: str) -> Contact:
    """Edit a contact's name, phone and email. Allowed to anyone who can see one of its conversations.

    Every open conversation of the contact is re-broadcast so lists show the new name live.
    """
    visible = permissions.visible_conversations(user).filter(contact=contact)
    if not visible.exists():
        raise PermissionDenied(_("You do not have access to this contact."))
    if not permissions.has_permission(user, contact.organization_id, "manage_contacts"):
        raise PermissionDenied(_("Your role does not allow editing contacts."))
    if not permissions.has_permission(user, contact.organization_id, "see_contact_pii"):
        phone, email = contact.phone, contact.email  # the form showed them masked: never save the mask
    name, phone, email = (name or "").strip()[:200], (phone or "").strip()[:32], (email or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError as exc:
            raise ValidationError(_("That email address does not look right.")) from exc
    if phone and not all(ch.isdigit() or ch in "+-() ." for ch in phone):
        raise ValidationError(_("A phone number has digits, spaces and + - ( ) only."))
    with transaction.atomic():
        contact.name, contact.phone, contact.email = name, phone, email
        contact.save(update_fields=["name", "phone", "email"])
        for conversation in visible.exclude(status="resolved").select_related("channel", "contact", "identity"):
            events.publish(
                "conversation.updated",
                organization_id=conversation.organization_id,
                conversation=conversation_as_dict(conversation),
            )
    return contact
