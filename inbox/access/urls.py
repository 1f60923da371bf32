from django.urls import path

from inbox.access import views

app_name = "access"

urlpatterns = [
    path("settings/members/", views.member_list, name="members"),
    path("settings/roles/", views.role_list, name="roles"),
    path("settings/audit/", views.audit_log, name="audit"),
    path("settings/security/", views.security_settings, name="security"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation-accept"),
]
