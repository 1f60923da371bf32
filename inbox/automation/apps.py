from django.apps import AppConfig


class AutomationConfig(AppConfig):
    name = "inbox.automation"
    label = "automation"
    verbose_name = "Auto-replies"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from inbox.automation import subscribers

        subscribers.connect()
