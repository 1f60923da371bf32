from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from inbox.lifecycle.models import RetentionPolicy

_DAYS = {"min_value": 1, "max_value": 36500, "required": False}


class RetentionForm(forms.Form):
    resolved_conversations_days = forms.IntegerField(
        label=_("Resolved conversations: days since their last message"),
        help_text=_("Empty: keep them for ever."),
        **_DAYS,
    )
    conversation_action = forms.ChoiceField(label=_("Then"), choices=RetentionPolicy.ConversationAction.choices)
    webhook_bodies_days = forms.IntegerField(
        label=_("Raw webhook deliveries (processed): days"), help_text=_("Empty: keep them for ever."), **_DAYS
    )
    signal_outbox_days = forms.IntegerField(
        label=_("Signals sent to TikTok (delivered or dead) and their request log: days"),
        help_text=_("Empty: keep them for ever."),
        **_DAYS,
    )


class EraseLookupForm(forms.Form):
    contact_id = forms.IntegerField(label=_("Contact number"), min_value=1)


class EraseConfirmForm(forms.Form):
    confirmation = forms.CharField(label=_("Type ERASE to confirm"), max_length=20)
