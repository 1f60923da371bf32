from django.urls import path

from inbox import api, views

app_name = "inbox"

urlpatterns = [
    path("inbox/", views.index, name="index"),
    path("inbox/c/<int:conversation_id>/", views.index, name="conversation"),
    path("inbox/c/<int:conversation_id>/contact/", views.contact_edit, name="contact-edit"),
    path("inbox/c/<int:conversation_id>/pane/", views.conversation_pane, name="conversation-pane"),
    path("inbox/labels/", views.label_list, name="labels"),
    path("inbox/labels/<int:label_id>/delete/", views.label_delete, name="label-delete"),
    path("inbox/canned-replies/", views.canned_reply_list, name="canned-replies"),
    path("inbox/canned-replies/<int:canned_id>/delete/", views.canned_reply_delete, name="canned-reply-delete"),
]

api_urlpatterns = [
    path("conversations/", api.ConversationList.as_view(), name="api-conversations"),
    path("conversations/bulk/", api.ConversationBulk.as_view(), name="api-conversations-bulk"),
    path("conversations/<int:conversation_id>/", api.ConversationDetail.as_view(), name="api-conversation"),
    path(
        "conversations/<int:conversation_id>/messages/",
        api.ConversationMessages.as_view(),
        name="api-conversation-messages",
    ),
    path("conversations/<int:conversation_id>/read/", api.ConversationRead.as_view(), name="api-conversation-read"),
    path(
        "conversations/<int:conversation_id>/labels/", api.ConversationLabels.as_view(), name="api-conversation-labels"
    ),
    path(
        "conversations/<int:conversation_id>/labels/<int:label_id>/",
        api.ConversationLabels.as_view(),
        name="api-conversation-label",
    ),
    path("conversations/<int:conversation_id>/notes/", api.ConversationNotes.as_view(), name="api-conversation-notes"),
    path("labels/", api.LabelList.as_view(), name="api-labels"),
    path("labels/<int:label_id>/", api.LabelDetail.as_view(), name="api-label"),
    path("canned-replies/", api.CannedReplyList.as_view(), name="api-canned-replies"),
    path("canned-replies/<int:canned_id>/", api.CannedReplyDetail.as_view(), name="api-canned-reply"),
    path("canned-replies/<int:canned_id>/render/", api.CannedReplyRender.as_view(), name="api-canned-reply-render"),
    path("views/", api.SavedViewList.as_view(), name="api-views"),
    path("views/counts/", api.SavedViewCounts.as_view(), name="api-view-counts"),
    path("views/<int:view_id>/", api.SavedViewDetail.as_view(), name="api-view"),
    path("search/", api.Search.as_view(), name="api-search"),
    path("events/", api.EventsSince.as_view(), name="api-events"),
    path("notifications/", api.NotificationList.as_view(), name="api-notifications"),
    path("directory/", api.Directory.as_view(), name="api-directory"),
]
