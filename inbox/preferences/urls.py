from django.urls import path
from django.views.i18n import JavaScriptCatalog

from inbox.preferences import views

app_name = "preferences"

urlpatterns = [
    path("preferences/", views.preferences, name="edit"),
    path("language/", views.set_language, name="set-language"),
    # The djangojs catalogue (locale/<code>/LC_MESSAGES/djangojs.po) for static/*.js: window.gettext.
    path("jsi18n/", JavaScriptCatalog.as_view(), name="jsi18n"),
]
