from django.apps import AppConfig


class ConnectionsConfig(AppConfig):
    """Connecting accounts through OAuth (Switchboard as a client of TikTok and Meta) and Switchboard as an OAuth
    provider for third-party apps (authorized apps, scoped API access, outbound webhook subscriptions)."""

    name = "integrations.connections"
    label = "connections"
    verbose_name = "Connections and authorized apps"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from integrations.connections import subscribers
        from integrations.connections.provider import schema  # noqa: F401 - registers the OpenAPI extension

        subscribers.connect()
