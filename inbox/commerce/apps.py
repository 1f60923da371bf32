from django.apps import AppConfig


class CommerceConfig(AppConfig):
    name = "inbox.commerce"
    label = "commerce"
    verbose_name = "Orders and reservations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from inbox.commerce import filters

        filters.register()
