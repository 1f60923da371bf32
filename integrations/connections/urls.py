from django.urls import path, re_path
from oauth2_provider import views as oauth_views

from integrations.connections.views import api, client, provider, sandbox

app_name = "connections"

urlpatterns = [
    # Switchboard as a client: the Connections page and the OAuth flows.
    path("connections/", client.index, name="index"),
    path("connections/whatsapp/", client.whatsapp, name="whatsapp"),
    path("connections/messenger/pages/<str:state>/", client.messenger_pages, name="messenger-pages"),
    path("connections/<int:connection_id>/disconnect/", client.disconnect, name="disconnect"),
    path("connections/advertisers/<int:grant_id>/choose/", client.advertiser_choose, name="advertiser-choose"),
    path("connections/advertisers/<int:grant_id>/disconnect/", client.advertiser_disconnect,
         name="advertiser-disconnect"),
    path("connections/<slug:provider>/connect/", client.start, name="start"),
    path("connections/<slug:provider>/callback/", client.callback, name="callback"),
    # The sandbox authorization server for the offline demo (404 unless SANDBOX_OAUTH).
    path("connections/sandbox-oauth/tiktok/v2/auth/authorize", sandbox.tiktok_authorize, name="sandbox-tiktok"),
    path("connections/sandbox-oauth/tiktok/portal/auth", sandbox.tiktok_ads_authorize, name="sandbox-tiktok-ads"),
    re_path(r"^connections/sandbox-oauth/tiktok/open_api/v1\.3/(?P<rest>.+)$", sandbox.tiktok_api),
    re_path(r"^connections/sandbox-oauth/meta/(?P<version>v[0-9.]+)/dialog/oauth$", sandbox.meta_dialog,
            name="sandbox-meta"),
    re_path(r"^connections/sandbox-oauth/meta/(?P<version>v[0-9.]+)/(?P<rest>.+)$", sandbox.meta_graph),
    # Switchboard as a provider: authorization server, authorized apps, webhook delivery log.
    path("oauth/authorize/", provider.ConsentView.as_view(), name="authorize"),
    path("oauth/token/", oauth_views.TokenView.as_view(), name="token"),
    path("oauth/revoke_token/", oauth_views.RevokeTokenView.as_view(), name="revoke-token"),
    path("oauth/introspect/", oauth_views.IntrospectTokenView.as_view(), name="introspect"),
    path("connections/apps/", provider.authorized_apps, name="apps"),
    path("connections/apps/<int:authorization_id>/revoke/", provider.revoke_app, name="revoke-app"),
    path("connections/apps/webhooks/<int:subscription_id>/", provider.delivery_log, name="deliveries"),
    path("connections/apps/deliveries/<int:delivery_id>/redeliver/", provider.redeliver, name="redeliver"),
    path("api/v1/webhook-subscriptions/", api.WebhookSubscriptionList.as_view(), name="api-webhook-subscriptions"),
    path("api/v1/webhook-subscriptions/<int:subscription_id>/", api.WebhookSubscriptionDetail.as_view(),
         name="api-webhook-subscription"),
]
