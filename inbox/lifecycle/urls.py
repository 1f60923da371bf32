from django.urls import path

from inbox.lifecycle import views

app_name = "lifecycle"

urlpatterns = [
    path("data/", views.data_settings, name="settings"),
    path("data/contacts/<int:contact_id>/erase/", views.erase_contact, name="erase"),
]
