from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from integrations import metrics, subscribers
        from switchboard.observability import register_metrics

        subscribers.connect()
        register_metrics(metrics.webhook_metrics)
        register_metrics(metrics.reply_metrics)
