"""The channel form: one form, its labels and fields chosen by the channel's kind (in the provider's words)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy

from integrations.services import channels as channel_services

SECRET_LABELS = {
    "app_secret": ("App secret", "Signs the provider's webhooks (Meta app secret, TikTok client secret)."),
    "verify_token": ("Verify token", "Any string you choose; type the same in the provider's webhook settings."),
    "access_token": ("Access token", "Authorizes sending (system-user token, page token or TikTok business token)."),
}


class ChannelForm(forms.Form):
    """Create (``editing=False``) or edit a channel of ``kind``. On edit an empty secret keeps the stored one."""

    name = forms.CharField(
        max_length=120, label=gettext_lazy("Name"), help_text=gettext_lazy("What agents see, e.g. “Shop WhatsApp”.")
    )

    def __init__(self, *args: Any, kind: str, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.editing = editing
        spec = channel_services.provider_fields(kind)
        if kind == "sandbox":
            return  # the sandbox generates its account id and secret
        self.fields["account_id"] = forms.CharField(
            max_length=128, label=spec.account_id_label, help_text=spec.account_id_help
        )
        for key, label in spec.extras:
            self.fields[key] = forms.CharField(max_length=200, label=label, required=False)
        for key in channel_services.SECRET_FIELDS:
            if key == "verify_token" and not spec.needs_verify_token:
                continue
            label, help_text = SECRET_LABELS[key]
            if editing:
                help_text += " Leave empty to keep the stored value."
            self.fields[key] = forms.CharField(
                max_length=channel_services.MAX_SECRET_LENGTH,
                label=label,
                help_text=help_text,
                required=False,
                strip=True,
                widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
            )

    def extras(self) -> dict[str, str]:
        keys = [key for key, _ in channel_services.provider_fields(self.kind).extras]
        return {key: self.cleaned_data.get(key, "") for key in keys if key in self.cleaned_data}

    def secrets(self) -> dict[str, str]:
        """The secrets typed in; on edit only the non-empty ones (empty means keep)."""
        values = {key: self.cleaned_data.get(key, "") for key in channel_services.SECRET_FIELDS if key in self.fields}
        return {k: v for k, v in values.items() if v} if self.editing else values

    def add_service_error(self, error: ValidationError) -> None:
        """Show a service's ``ValidationError`` next to the field it names (or above the form)."""
        if hasattr(error, "error_dict"):
            for field, errors in error.error_dict.items():
                target = field if field in self.fields else None
                for message in errors:
                    self.add_error(target, message.messages[0] if hasattr(message, "messages") else str(message))
        else:
            for message in error.messages:
                self.add_error(None, message)
