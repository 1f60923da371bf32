"""REST serializers of channels. Secrets are write-only on the way in and masked on the way out."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from inbox.models import Channel
from integrations.channels.registry import known_providers
from integrations.services import channels as channel_services

SECRET_HELP = "Write-only: stored encrypted and only ever shown masked (last four characters)."


class ChannelSerializer(serializers.ModelSerializer):
    """A channel as the API shows it: the webhook URLs to configure at the provider and masked credentials."""

    webhook_url = serializers.SerializerMethodField(help_text="Per-channel callback URL, verified with app_secret.")
    app_webhook_url = serializers.SerializerMethodField(
        help_text="The Messaging Partner app's callback URL for this provider, routed by account_id."
    )
    credentials = serializers.SerializerMethodField(help_text="Stored secrets, masked; provider ids in full.")

    class Meta:
        model = Channel
        fields = [
            "id",
            "kind",
            "name",
            "status",
            "account_id",
            "webhook_url",
            "app_webhook_url",
            "credentials",
            "created_at",
        ]
        read_only_fields = fields

    def get_webhook_url(self, channel: Channel) -> str:
        return channel_services.channel_webhook_url(channel)

    def get_app_webhook_url(self, channel: Channel) -> str:
        return channel_services.app_webhook_url(channel.kind)

    @extend_schema_field(serializers.DictField(child=serializers.CharField()))
    def get_credentials(self, channel: Channel) -> dict[str, str]:
        return channel_services.channel_credentials_masked(channel)


class _SecretField(serializers.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("write_only", True)
        kwargs.setdefault("trim_whitespace", True)
        kwargs.setdefault("max_length", channel_services.MAX_SECRET_LENGTH)
        kwargs.setdefault("help_text", SECRET_HELP)
        kwargs.setdefault("style", {"input_type": "password"})
        super().__init__(**kwargs)


class ChannelCreateSerializer(serializers.Serializer):
    """What ``POST /api/v1/channels/`` takes: the kind, a name, and the provider's ids and secrets."""

    kind = serializers.ChoiceField(choices=known_providers())
    name = serializers.CharField(max_length=120)
    account_id = serializers.CharField(
        max_length=128,
        required=False,
        allow_blank=True,
        help_text="WhatsApp phone_number_id, Messenger page id or TikTok business id (generated for sandbox).",
    )
    app_secret = _SecretField(help_text="Signs the provider's webhooks (Meta app secret, TikTok client secret).")
    verify_token = _SecretField(help_text="Answers Meta's GET verification handshake (hub.verify_token).")
    access_token = _SecretField(help_text="Authorizes sending (system-user, page or TikTok business token).")
    extra = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=channel_services.MAX_SECRET_LENGTH),
        required=False,
        write_only=True,
        help_text="Other provider ids, e.g. {'waba_id': '...'} for WhatsApp. Stored encrypted.",
    )


class ChannelUpdateSerializer(serializers.Serializer):
    """What ``PATCH /api/v1/channels/<id>/`` takes. A missing field keeps its value; ``""`` clears a secret."""

    name = serializers.CharField(max_length=120, required=False)
    account_id = serializers.CharField(max_length=128, required=False, allow_blank=True)
    status = serializers.ChoiceField(
        choices=[Channel.Status.ACTIVE, Channel.Status.DISABLED],
        required=False,
        help_text="'disabled' stops replies through the channel (history is kept); 'active' enables it again.",
    )
    app_secret = _SecretField()
    verify_token = _SecretField()
    access_token = _SecretField()
    extra = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=channel_services.MAX_SECRET_LENGTH),
        required=False,
        write_only=True,
    )
