from django.urls import path

from inbox.automation import views

app_name = "automation"

urlpatterns = [
    path("rules/", views.rule_list, name="rules"),
    path("rules/new/", views.rule_new, name="rule_new"),
    path("rules/reorder/", views.rules_reorder, name="rules_reorder"),
    path("rules/<int:rule_id>/", views.rule_edit, name="rule_edit"),
    path("rules/<int:rule_id>/toggle/", views.rule_toggle, name="rule_toggle"),
    path("rules/<int:rule_id>/move/", views.rule_move, name="rule_move"),
    path("rules/<int:rule_id>/delete/", views.rule_delete, name="rule_delete"),
    path("sandbox/", views.sandbox_page, name="sandbox"),
    path("business-hours/", views.business_hours, name="business_hours"),
]
