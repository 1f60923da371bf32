"""Granted permissions in plain words, for the Connections and Authorized apps pages and the consent page."""

from __future__ import annotations

from django.conf import settings

PROVIDER_SCOPES: dict[str, dict[str, str]] = {
    "tiktok": {
        "user.info.basic": "See the account's name and profile picture",
        "user.info.username": "See the account's username",
        "user.info.profile": "See the account's profile details",
        "user.info.stats": "See the account's follower counts",
        "message.list.read": "Read your TikTok conversations",
        "message.list.send": "Send messages from your TikTok business account",
        "message.list.manage": "Manage your TikTok conversations and receive them as webhooks",
    },
    "messenger": {
        "pages_show_list": "See the list of Pages you manage",
        "pages_messaging": "Read and answer your Page's Messenger conversations",
        "pages_manage_metadata": "Receive webhooks for your Page",
    },
    "whatsapp": {
        "whatsapp_business_messaging": "Send and receive WhatsApp messages for this number",
        "whatsapp_business_management": "Receive webhooks for this WhatsApp Business account",
    },
    "tiktok_ads": {},
}
ADS_DEFAULT = "Report conversation events to TikTok for the advertiser accounts you chose"


def describe(provider: str, scopes: list[str]) -> list[str]:
    """Each granted scope in plain words; an unknown scope is shown as is rather than hidden."""
    if provider == "tiktok_ads":
        return [ADS_DEFAULT]
    words = PROVIDER_SCOPES.get(provider, {})
    return [words.get(scope, scope) for scope in scopes]


def describe_app_scopes(scopes: list[str]) -> list[tuple[str, str]]:
    """Switchboard's own scopes (``OAUTH2_PROVIDER["SCOPES"]``) as ``(scope, plain words)``."""
    words = settings.OAUTH2_PROVIDER["SCOPES"]
    return [(scope, words.get(scope, scope)) for scope in scopes]
