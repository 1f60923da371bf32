from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PreferencesConfig(AppConfig):
    name = "inbox.preferences"
    label = "preferences"
    verbose_name = _("Preferences")
    default_auto_field = "django.db.models.BigAutoField"
