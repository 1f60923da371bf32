"""Where the OAuth calls go: the real providers (base URLs from settings) or the built-in sandbox server.

With ``SANDBOX_OAUTH`` (the offline demo) every authorize page and token call goes to
``/connections/sandbox-oauth/...`` on Switchboard itself, which plays TikTok and Meta; tests point the settings
at fake servers on loopback instead. Either way the same client code runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

SANDBOX_PREFIX = "/connections/sandbox-oauth"


@dataclass(frozen=True)
class Endpoints:
    tiktok_auth_base: str
    tiktok_api_base: str
    tiktok_ads_auth_url: str
    meta_dialog_base: str
    meta_graph_base: str
    meta_version: str
    tiktok_client_key: str
    tiktok_client_secret: str
    tiktok_ads_app_id: str
    tiktok_ads_secret: str
    meta_app_id: str
    meta_app_secret: str
    sandbox: bool


def endpoints(base_url: str | None = None) -> Endpoints:
    """The endpoints and app credentials in force; ``base_url`` is this Switchboard's own (sandbox only)."""
    if settings.SANDBOX_OAUTH:
        root = (base_url or settings.PUBLIC_BASE_URL).rstrip("/") + SANDBOX_PREFIX
        return Endpoints(
            tiktok_auth_base=f"{root}/tiktok",
            tiktok_api_base=f"{root}/tiktok",
            tiktok_ads_auth_url=f"{root}/tiktok/portal/auth",
            meta_dialog_base=f"{root}/meta",
            meta_graph_base=f"{root}/meta",
            meta_version=settings.META_GRAPH_API_VERSION,
            tiktok_client_key="sandbox-tiktok-client",
            tiktok_client_secret="sandbox-tiktok-secret",
            tiktok_ads_app_id="sandbox-ads-app",
            tiktok_ads_secret="sandbox-ads-secret",
            meta_app_id="sandbox-meta-app",
            meta_app_secret="sandbox-meta-secret",
            sandbox=True,
        )
    return Endpoints(
        tiktok_auth_base=settings.TIKTOK_AUTH_BASE,
        tiktok_api_base=settings.TIKTOK_API_BASE,
        tiktok_ads_auth_url=settings.TIKTOK_ADS_AUTH_URL,
        meta_dialog_base=settings.META_DIALOG_BASE,
        meta_graph_base=settings.META_GRAPH_API_BASE,
        meta_version=settings.META_GRAPH_API_VERSION,
        tiktok_client_key=settings.TIKTOK_CLIENT_KEY,
        tiktok_client_secret=settings.TIKTOK_CLIENT_SECRET,
        tiktok_ads_app_id=settings.TIKTOK_ADS_APP_ID,
        tiktok_ads_secret=settings.TIKTOK_ADS_SECRET,
        meta_app_id=settings.META_APP_ID,
        meta_app_secret=settings.META_APP_SECRET,
        sandbox=False,
    )


def missing_configuration(ep: Endpoints, provider: str) -> str:
    """What an admin must configure before ``provider`` can be connected ("" when nothing is missing)."""
    needed = {
        "tiktok": [("TIKTOK_CLIENT_KEY", ep.tiktok_client_key), ("TIKTOK_CLIENT_SECRET", ep.tiktok_client_secret)],
        "tiktok_ads": [("TIKTOK_ADS_APP_ID", ep.tiktok_ads_app_id), ("TIKTOK_ADS_SECRET", ep.tiktok_ads_secret)],
        "messenger": [("META_APP_ID", ep.meta_app_id), ("META_APP_SECRET", ep.meta_app_secret)],
        "whatsapp": [],
    }.get(provider, [])
    missing = [name for name, value in needed if not value]
    return f"Set {' and '.join(missing)} to connect this account." if missing else ""
