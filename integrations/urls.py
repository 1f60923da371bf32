from django.urls import path

from integrations import api, views
from integrations.pages import channels as channel_pages
from integrations.pages import deliveries as delivery_pages
from integrations.pages import media as media_pages
from integrations.pages import tokens as token_pages
from integrations.sandbox import views as sandbox_views

app_name = "integrations"

urlpatterns = [
    path("webhooks/<slug:provider>/", views.webhook, name="app-webhook"),
    path("webhooks/<slug:provider>/<int:channel_id>/", views.webhook, name="channel-webhook"),
    path("simulator/<int:channel_id>/", sandbox_views.simulator, name="simulator"),
    path("simulator/<int:channel_id>/messages", sandbox_views.simulator_messages, name="simulator-messages"),
    path("simulator/<int:channel_id>/send", sandbox_views.simulator_send, name="simulator-send"),
    path("channels/", channel_pages.channel_list, name="channels"),
    path("channels/new/", channel_pages.channel_new, name="channel-new"),
    path("channels/<int:channel_id>/", channel_pages.channel_detail, name="channel"),
    path("channels/<int:channel_id>/edit/", channel_pages.channel_edit, name="channel-edit"),
    path("channels/<int:channel_id>/status/", channel_pages.channel_status, name="channel-status"),
    path("channels/webhooks/", delivery_pages.delivery_list, name="deliveries"),
    path("channels/webhooks/<int:webhook_id>/replay/", delivery_pages.delivery_replay, name="delivery-replay"),
    path("settings/api-tokens/", token_pages.api_tokens, name="api-tokens"),
    path("messages/<int:message_id>/media/", media_pages.message_media, name="message-media"),
    path(
        "channels/<int:channel_id>/templates/sync/", channel_pages.channel_templates_sync, name="channel-templates-sync"
    ),
]

# Mounted under /api/v1/ by switchboard/urls.py (namespace "integrations-api").
api_urlpatterns = [
    path("channels/", api.ChannelList.as_view(), name="channels"),
    path("channels/<int:channel_id>/", api.ChannelDetail.as_view(), name="channel"),
]
