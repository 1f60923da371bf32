from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "inbox.access"
    label = "access"
    verbose_name = "Members and access"
    default_auto_field = "django.db.models.BigAutoField"
