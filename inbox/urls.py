from django.urls import path

from inbox import api, views

app_name = "inbox"

urlpatterns = [
    path("inbox/", views.index, name="index"),
    path("inbox/c/<int:conversation_id>/", views.index, name="conversation"),
]

api_urlpatterns = [
    path("conversations/", api.ConversationList.as_view(), name="api-conversations"),
    path("conversations/<int:conversation_id>/", api.ConversationDetail.as_view(), name="api-conversation"),
    path(
        "conversations/<int:conversation_id>/messages/",
        api.ConversationMessages.as_view(),
        name="api-conversation-messages",
    ),
    path("conversations/<int:conversation_id>/read/", api.ConversationRead.as_view(), name="api-conversation-read"),
]
