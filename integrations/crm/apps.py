from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "integrations.crm"
    label = "crm"
    verbose_name = "CRM sync (HubSpot and signed webhooks)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from integrations.connections.selectors import register_extra_card
        from integrations.crm import selectors, subscribers

        subscribers.connect()
        register_extra_card(selectors.connections_card)
