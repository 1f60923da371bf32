from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from inbox import views as inbox_views
from inbox.access import login as access_login
from inbox.urls import api_urlpatterns
from integrations.urls import api_urlpatterns as integrations_api_urlpatterns
from switchboard import observability

urlpatterns = [
    path("", inbox_views.home, name="home"),
    path("login/", access_login.SwitchboardLoginView.as_view(), name="login"),  # issue 5: lockout, then 2FA
    path("login/verify/", access_login.login_verify, name="login-verify"),
    path("admin/login/", access_login.admin_login),  # the admin logs in through ours (lockout, 2FA)
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("health/live", observability.live, name="health-live"),
    path("health/ready", observability.ready, name="health-ready"),
    path("metrics", observability.metrics, name="metrics"),
    path("system/", observability.system_page, name="system"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/v1/", include((api_urlpatterns, "api"))),
    path("api/v1/", include((integrations_api_urlpatterns, "integrations-api"))),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("inbox.urls")),
    path("", include("integrations.urls")),
    path("signals/", include("signals.urls")),
    path("", include("integrations.connections.urls")),  # /connections/, /oauth/ (issue 3)
    path("automation/", include("inbox.automation.urls")),
    path("", include("inbox.commerce.urls")),  # /commerce/ pages and /api/v1/orders|reservations (issue 7)
    path("crm/", include("integrations.crm.urls")),  # HubSpot sync, sync log, signed webhooks (issue 8)
    path("", include("inbox.access.urls")),  # /settings/members|roles|audit/, /invitations/<token>/ (issue 5)
    path("settings/", include("inbox.preferences.urls")),  # language, time zone, notifications (issue 10)
    path("settings/", include("inbox.lifecycle.urls")),  # retention and contact erasure (issue 11)
    path("i18n/", include("django.conf.urls.i18n")),  # django's set_language (issue 10)
]
