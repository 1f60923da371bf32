from django.urls import path

from integrations import views
from integrations.sandbox import views as sandbox_views

app_name = "integrations"

urlpatterns = [
    path("webhooks/<slug:provider>/", views.webhook, name="app-webhook"),
    path("webhooks/<slug:provider>/<int:channel_id>/", views.webhook, name="channel-webhook"),
    path("simulator/<int:channel_id>/", sandbox_views.simulator, name="simulator"),
    path("simulator/<int:channel_id>/messages", sandbox_views.simulator_messages, name="simulator-messages"),
    path("simulator/<int:channel_id>/send", sandbox_views.simulator_send, name="simulator-send"),
]
