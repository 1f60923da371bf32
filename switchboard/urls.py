from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from inbox import views as inbox_views
from inbox.urls import api_urlpatterns

urlpatterns = [
    path("", inbox_views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(template_name="auth/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/v1/", include((api_urlpatterns, "api"))),
    path("", include("inbox.urls")),
    path("", include("integrations.urls")),
    path("signals/", include("signals.urls")),
]
