from django.urls import path

from signals import views

app_name = "signals"

urlpatterns = [
    path("", views.index, name="index"),
    path("keywords/", views.keyword_lists, name="keywords"),
    path("keywords/<int:list_id>/export.csv", views.keyword_export, name="keyword_export"),
    path("extractors/", views.extractor_rules, name="extractors"),
    path("events/", views.event_settings, name="events"),
    path("sent/", views.sent, name="sent"),
    path("dead/", views.dead, name="dead"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("sandbox-events/open_api/v1.3/event/track/", views.sandbox_track, name="sandbox_track"),
]
