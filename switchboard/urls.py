from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from inbox import views as inbox_views
from inbox.urls import api_urlpatterns
from integrations.urls import api_urlpatterns as integrations_api_urlpatterns
from switchboard import observability

urlpatterns = [
    path("", inbox_views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(template_name="auth/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("health/live", observability.live, name="health-live"),
    path("health/ready", observability.ready, name="health-ready"),
    path("metrics", observability.metrics, name="metrics"),
    path("system/", observability.system_page, name="system"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/v1/", include((api_urlpatterns, "api"))),
    path("api/v1/", include((integrations_api_urlpatterns, "integrations-api"))),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("inbox.urls")),
    path("", include("integrations.urls")),
    path("signals/", include("signals.urls")),
    path("", include("integrations.connections.urls")),  # /connections/, /oauth/ (issue 3)
    path("automation/", include("inbox.automation.urls")),
    path("", include("inbox.commerce.urls")),  # /commerce/ pages and /api/v1/orders|reservations (issue 7)
    path("crm/", include("integrations.crm.urls")),  # HubSpot sync, sync log, signed webhooks (issue 8)
    path("", include("inbox.access.urls")),  # /settings/members|roles|audit/, /invitations/<token>/ (issue 5)
    path("settings/", include("inbox.preferences.urls")),  # language, time zone, notifications (issue 10)
    path("i18n/", include("django.conf.urls.i18n")),  # django's set_language (issue 10)
]
