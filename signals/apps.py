from django.apps import AppConfig


class SignalsConfig(AppConfig):
    name = "signals"
    verbose_name = "Signals to TikTok"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from signals import filters, metrics, subscribers
        from switchboard.observability import register_metrics

        subscribers.connect()
        filters.connect()
        register_metrics(metrics.outbox_metrics)
