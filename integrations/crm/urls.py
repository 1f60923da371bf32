from django.urls import path

from integrations.crm import views

app_name = "crm"

urlpatterns = [
    path("", views.settings_page, name="settings"),
    path("hubspot/oauth/start", views.oauth_start, name="oauth-start"),
    path("hubspot/oauth/callback", views.oauth_callback, name="oauth-callback"),
    path("log/", views.log_page, name="log"),
    path("log/<int:item_id>/retry", views.log_retry, name="log-retry"),
    path("webhooks/", views.webhooks_page, name="webhooks"),
    path("webhooks/deliveries/<int:delivery_id>/redeliver", views.webhook_redeliver, name="webhook-redeliver"),
    path("contacts/<int:contact_id>/panel", views.contact_panel, name="contact-panel"),
]
