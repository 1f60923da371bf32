"""Which adapter serves which kind of channel. Adapters are stateless and shared."""

from __future__ import annotations

from functools import cache

from integrations.channels.base import ChannelAdapter


class UnknownProvider(LookupError):
    pass


def _adapter_classes() -> dict[str, type]:
    from integrations.sandbox.adapter import SandboxAdapter

    classes: dict[str, type] = {"sandbox": SandboxAdapter}
    try:
        from integrations.whatsapp.adapter import WhatsAppAdapter

        classes["whatsapp"] = WhatsAppAdapter
    except ImportError:  # TODO(issue 12): remove once the provider adapters have landed
        pass
    try:
        from integrations.messenger.adapter import MessengerAdapter

        classes["messenger"] = MessengerAdapter
    except ImportError:
        pass
    try:
        from integrations.tiktok.adapter import TikTokAdapter

        classes["tiktok"] = TikTokAdapter
    except ImportError:
        pass
    return classes


@cache
def adapter_for(kind: str) -> ChannelAdapter:
    classes = _adapter_classes()
    if kind not in classes:
        raise UnknownProvider(f"no adapter for provider {kind!r}")
    return classes[kind]()


def known_providers() -> list[str]:
    return sorted(_adapter_classes())
