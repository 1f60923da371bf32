"""REST API of the inbox (Django REST Framework). Thin: selectors read, services write."""

from inbox.api.conversations import (
    ConversationBulk,
    ConversationDetail,
    ConversationLabels,
    ConversationList,
    ConversationMessages,
    ConversationNotes,
    ConversationRead,
    MessageSerializer,
)
from inbox.api.workspace import (
    CannedReplyDetail,
    CannedReplyList,
    CannedReplyRender,
    Directory,
    EventsSince,
    LabelDetail,
    LabelList,
    NotificationList,
    SavedViewCounts,
    SavedViewDetail,
    SavedViewList,
    Search,
)

__all__ = [
    "CannedReplyDetail",
    "CannedReplyList",
    "CannedReplyRender",
    "ConversationBulk",
    "ConversationDetail",
    "ConversationLabels",
    "ConversationList",
    "ConversationMessages",
    "ConversationNotes",
    "ConversationRead",
    "Directory",
    "EventsSince",
    "LabelDetail",
    "LabelList",
    "MessageSerializer",
    "NotificationList",
    "SavedViewCounts",
    "SavedViewDetail",
    "SavedViewList",
    "Search",
]
