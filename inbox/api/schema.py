"""What the inbox API documents in its OpenAPI schema: request and response shapes, shared query parameters.

The views build their answers from the selectors' dicts (one shape for the REST API, the websocket and the page),
so these serializers are never used to validate or render at runtime: they only describe those dicts to
drf-spectacular. Keep them in step with ``inbox.selectors`` (``conversation_detail_dict``, ``note_as_dict``,
``label_as_dict``...); ``tests/inbox/test_openapi_inbox.py`` checks that the schema renders without warnings.
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from inbox.api.base import BULK_ACTIONS
from inbox.models import Channel, Conversation, Notification, Role

# --- shared bits -----------------------------------------------------------------------------------------------

ERRORS = {
    400: OpenApiResponse(
        description='Bad input: an object naming the offending field, e.g. `{"filter": ["status: ..."]}`.'
    ),
    403: OpenApiResponse(description="Not signed in, not a member of an organization, or not allowed."),
}
NOT_FOUND = {404: OpenApiResponse(description="No such object, or not one you may see.")}
BODY_ERRORS = {
    415: OpenApiResponse(description="The body is in a media type this endpoint does not read (send JSON)."),
}


FILTER_PARAMETER = OpenApiParameter(
    "filter",
    OpenApiTypes.STR,
    description=(
        "A filter document (JSON object) every listed conversation matches, e.g. "
        '`{"status": ["open", "pending"], "assignee": "me", "labels": {"any": [3]}}`. Conditions: `status`, '
        "`channel`, `channel_kind`, `labels` (`any`/`all`/`none`), `assignee` (`me`, `nobody`, `someone` or a "
        "user id), `team` (`mine`, `nobody` or a team id), `priority`, `campaign_id`, `tracking_id`, `created` and "
        "`last_activity` (`after`/`before`/`within_days`), `waiting_minutes`, `unread`, `text`, and `and`/`or`/"
        "`not` to combine documents. Invalid JSON or an unknown condition answers 400 naming it."
    ),
)
STATUS_PARAMETER = OpenApiParameter(
    "status",
    OpenApiTypes.STR,
    enum=Conversation.Status.values,
    description="Only conversations in this status (older clients; ignored when `filter` is given).",
)
CURSOR_PARAMETER = OpenApiParameter(
    "cursor",
    OpenApiTypes.STR,
    description="Continue after the previous page: the `next_cursor` it returned (opaque; 400 when not ours).",
)
LIMIT_PARAMETER = OpenApiParameter(
    "limit", OpenApiTypes.INT, description="Page size, 1 to 100 (default 50; values outside are clamped)."
)
IDS_PARAMETER = OpenApiParameter(
    "ids",
    OpenApiTypes.STR,
    description="Comma-separated conversation ids (`1,2,3`, at most 50): only those of them that still match "
    "`filter` are returned. How a browser rechecks conversations that changed while it was showing a filter.",
)
AFTER_PARAMETER = OpenApiParameter(
    "after", OpenApiTypes.INT, description="Only messages with a greater id (the newest one the client has)."
)
CANNED_QUERY_PARAMETER = OpenApiParameter(
    "q", OpenApiTypes.STR, description="Only canned replies whose short code starts with this (a leading / is ignored)."
)
CANNED_CONVERSATION_PARAMETER = OpenApiParameter(
    "conversation",
    OpenApiTypes.INT,
    required=True,
    description="The conversation whose contact, channel and agent fill the variables.",
)
SEARCH_QUERY_PARAMETER = OpenApiParameter(
    "q",
    OpenApiTypes.STR,
    required=True,
    description="What to look for (1 to 200 characters) in messages and in contacts' names, phones and emails.",
)
SINCE_PARAMETER = OpenApiParameter(
    "since",
    OpenApiTypes.INT,
    description="The last event sequence number the client saw (`latest` of a previous answer; 0 for none).",
)


class ConversationLabelsSchema(AutoSchema):
    """One view serves ``.../labels/`` (POST puts a label on) and ``.../labels/{label_id}/`` (DELETE takes it off).

    The other method on each path would fail, so it is left out of the schema (and operation ids stay unique).
    """

    def is_excluded(self) -> bool:
        on_one_label = "{label_id}" in self.path
        return super().is_excluded() or (self.method == "DELETE") != on_one_label


# --- conversations -------------------------------------------------------------------------------------------


class LabelSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    colour = serializers.CharField(help_text="A CSS colour, e.g. #6b7280.")
    description = serializers.CharField(allow_blank=True)


class ConversationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    channel_id = serializers.IntegerField()
    channel_kind = serializers.ChoiceField(choices=Channel.Kind.choices)
    channel_name = serializers.CharField()
    contact_name = serializers.CharField()
    status = serializers.ChoiceField(choices=Conversation.Status.choices)
    snoozed_until = serializers.DateTimeField(allow_null=True)
    priority = serializers.ChoiceField(choices=Conversation.Priority.choices)
    assignee_id = serializers.IntegerField(allow_null=True)
    assignee_name = serializers.CharField(allow_blank=True, help_text="Empty when nobody is assigned.")
    team_id = serializers.IntegerField(allow_null=True)
    team_name = serializers.CharField(allow_blank=True, help_text="Empty when no team is assigned.")
    unread_count = serializers.IntegerField(help_text="Customer messages newer than what you have read.")
    last_inbound_message_id = serializers.IntegerField(allow_null=True)
    last_message_at = serializers.DateTimeField()
    preview = serializers.CharField(allow_blank=True, help_text="The start of the newest message.")
    tracking_id = serializers.CharField(allow_blank=True)
    campaign_id = serializers.CharField(allow_blank=True)
    labels = LabelSerializer(many=True)
    last_inbound_at = serializers.DateTimeField(allow_null=True)
    ad_id = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()


class ComposerTemplateSerializer(serializers.Serializer):
    name = serializers.CharField()
    language = serializers.CharField()
    body_text = serializers.CharField(allow_blank=True, help_text="With {{1}}, {{2}}... where the values go.")
    parameter_count = serializers.IntegerField(help_text="How many values `parameters` must hold.")


class ComposerSerializer(serializers.Serializer):
    """``channel_rules.ComposerState``: what the agent may send now."""

    can_send = serializers.BooleanField()
    reason = serializers.CharField(allow_blank=True, help_text="Why not, when `can_send` is false.")
    window_closes_at = serializers.DateTimeField(
        allow_null=True, help_text="When the channel's reply window closes; null when it has none."
    )
    remaining_messages = serializers.IntegerField(
        allow_null=True, help_text="Messages left before the customer must write again; null when unlimited."
    )
    max_text_length = serializers.IntegerField()
    extended = serializers.BooleanField(help_text="Past the standard window, inside the human-agent one.")
    template_only = serializers.BooleanField(
        help_text="Past the window, but an approved template may be sent (the reply's `template`)."
    )
    templates = ComposerTemplateSerializer(
        many=True, help_text="The channel's approved templates (WhatsApp); empty on channels without templates."
    )


class ConversationDetailSerializer(ConversationSerializer):
    composer = ComposerSerializer()


class ConversationPageSerializer(serializers.Serializer):
    results = ConversationSerializer(many=True)
    next = serializers.URLField(allow_null=True, help_text="The next page's URL; null on the last page.")
    next_cursor = serializers.CharField(allow_null=True, help_text="The `cursor` of the next page.")
    previous = serializers.CharField(allow_null=True, help_text="Always null: pages only go forward.")


class ConversationChangeSerializer(serializers.Serializer):
    """A missing field keeps its value."""

    status = serializers.ChoiceField(choices=Conversation.Status.choices, required=False)
    snoozed_until = serializers.DateTimeField(
        required=False, allow_null=True, help_text="With status snoozed: until when (ISO 8601 with a time zone)."
    )
    priority = serializers.ChoiceField(choices=Conversation.Priority.choices, required=False)
    assignee_id = serializers.IntegerField(required=False, allow_null=True, help_text="null unassigns.")
    team_id = serializers.IntegerField(required=False, allow_null=True, help_text="null removes the team.")


class LabelApplySerializer(serializers.Serializer):
    label_id = serializers.IntegerField()


class NoteSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    conversation_id = serializers.IntegerField()
    author_id = serializers.IntegerField(allow_null=True)
    author_name = serializers.CharField(allow_blank=True)
    body = serializers.CharField()
    mentions = serializers.ListField(child=serializers.CharField(), help_text="Usernames mentioned with @.")
    created_at = serializers.DateTimeField()


class NoteListSerializer(serializers.Serializer):
    results = NoteSerializer(many=True)


class NoteCreateSerializer(serializers.Serializer):
    body = serializers.CharField(help_text="The note's text; @username mentions notify those agents.")


class BulkSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(), help_text="Conversation ids.")
    action = serializers.ChoiceField(choices=BULK_ACTIONS)
    status = serializers.ChoiceField(
        choices=Conversation.Status.choices, required=False, help_text="With action status."
    )
    snoozed_until = serializers.DateTimeField(
        required=False, allow_null=True, help_text="With action status and status snoozed."
    )
    priority = serializers.ChoiceField(
        choices=Conversation.Priority.choices, required=False, help_text="With action priority."
    )
    assignee_id = serializers.IntegerField(
        required=False, allow_null=True, help_text="With action assign (null unassigns; absent keeps)."
    )
    team_id = serializers.IntegerField(
        required=False, allow_null=True, help_text="With action assign (null removes the team; absent keeps)."
    )
    label_id = serializers.IntegerField(required=False, help_text="With action label or unlabel.")


class BulkAnswerSerializer(serializers.Serializer):
    changed = serializers.IntegerField(help_text="How many of the conversations were changed.")


# --- workspace -------------------------------------------------------------------------------------------------


class LabelListSerializer(serializers.Serializer):
    results = LabelSerializer(many=True)


class LabelCreateSerializer(serializers.Serializer):
    name = serializers.CharField()
    colour = serializers.CharField(required=False, help_text="A CSS colour (default #6b7280).")
    description = serializers.CharField(required=False, allow_blank=True)


class LabelChangeSerializer(serializers.Serializer):
    """A missing field keeps its value."""

    name = serializers.CharField(required=False)
    colour = serializers.CharField(required=False)
    description = serializers.CharField(required=False, allow_blank=True)


class CannedReplySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    short_code = serializers.CharField(help_text="Typed after / in the composer.")
    body = serializers.CharField(help_text="May contain variables such as {{contact.name}}.")
    created_by = serializers.IntegerField(allow_null=True, help_text="The user id of its author.")


class CannedReplyListSerializer(serializers.Serializer):
    results = CannedReplySerializer(many=True, help_text="At most 50.")
    variables = serializers.ListField(child=serializers.CharField(), help_text="The variables a body may use.")


class CannedReplyCreateSerializer(serializers.Serializer):
    short_code = serializers.CharField()
    body = serializers.CharField()


class CannedReplyChangeSerializer(serializers.Serializer):
    """A missing field keeps its value."""

    short_code = serializers.CharField(required=False)
    body = serializers.CharField(required=False)


class CannedReplyRenderSerializer(serializers.Serializer):
    text = serializers.CharField(help_text="The body with its variables filled in.")
    missing = serializers.ListField(
        child=serializers.CharField(), help_text="Variables with no value for this conversation (left empty)."
    )


class SavedViewSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    filters = serializers.DictField(help_text="A filter document (see `filter` on GET /api/v1/conversations/).")
    owner_id = serializers.IntegerField(allow_null=True)
    shared_with_team_id = serializers.IntegerField(allow_null=True)
    position = serializers.IntegerField(allow_null=True)


class BuiltinViewSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="Its key in the counts, e.g. mine.")
    name = serializers.CharField()
    filters = serializers.DictField()


class SavedViewListSerializer(serializers.Serializer):
    results = SavedViewSerializer(many=True, help_text="Your views and those shared with your teams.")
    builtin = BuiltinViewSerializer(many=True, help_text="The views every agent has.")


class SavedViewCreateSerializer(serializers.Serializer):
    name = serializers.CharField()
    filters = serializers.DictField(required=False, help_text="A filter document (default {}: everything).")
    shared_with_team_id = serializers.IntegerField(
        required=False, allow_null=True, help_text="Share with this team (null: only you)."
    )


class SavedViewChangeSerializer(SavedViewCreateSerializer):
    """A missing field keeps its value."""

    name = serializers.CharField(required=False)
    position = serializers.IntegerField(required=False, allow_null=True)


class SavedViewCountsSerializer(serializers.Serializer):
    counts = serializers.DictField(
        child=serializers.IntegerField(),
        help_text='Conversations per view: built-in views by key, saved views as "view-<id>" (capped).',
    )
    cap = serializers.IntegerField(help_text="Counts stop here (show 999+).")


class MessageHitSerializer(serializers.Serializer):
    message_id = serializers.IntegerField()
    conversation_id = serializers.IntegerField()
    contact_name = serializers.CharField()
    channel_kind = serializers.ChoiceField(choices=Channel.Kind.choices)
    body = serializers.CharField(help_text="The first 200 characters.")
    snippet = serializers.CharField(help_text="The part of the text around the first match (plain text).")
    highlights = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField(), min_length=2, max_length=2),
        help_text="[start, end) character ranges of the matched words in `snippet`.",
    )
    created_at = serializers.DateTimeField()


class ContactHitSerializer(serializers.Serializer):
    conversation_id = serializers.IntegerField()
    contact_name = serializers.CharField()
    phone = serializers.CharField(allow_blank=True)
    channel_kind = serializers.ChoiceField(choices=Channel.Kind.choices)
    status = serializers.ChoiceField(choices=Conversation.Status.choices)
    last_message_at = serializers.DateTimeField()


class SearchSerializer(serializers.Serializer):
    messages = MessageHitSerializer(many=True, help_text="Best matches first.")
    contacts = ContactHitSerializer(many=True, help_text="Newest activity first.")


class EventSerializer(serializers.Serializer):
    seq = serializers.IntegerField(help_text="Sequence number (pass the last one as `since`).")
    event = serializers.CharField(help_text="The event's name, e.g. message.created, conversation.updated.")
    payload = serializers.DictField(help_text="What the websocket sent with it.")


class EventsSerializer(serializers.Serializer):
    events = EventSerializer(many=True, help_text="Oldest first; empty when `reset`.")
    reset = serializers.BooleanField(help_text="Too much was missed or `since` is too old: reload everything.")
    latest = serializers.IntegerField(help_text="The newest sequence number of your organization.")


class NotificationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Notification.Kind.choices)
    conversation_id = serializers.IntegerField()
    note_id = serializers.IntegerField(allow_null=True)
    actor_name = serializers.CharField(allow_blank=True)
    excerpt = serializers.CharField(allow_blank=True, help_text="The start of the note, when there is one.")
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)


class NotificationListSerializer(serializers.Serializer):
    results = NotificationSerializer(many=True, help_text="The newest 50.")


class NotificationMarkSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(), required=False, help_text="Which to mark read (absent: all of them)."
    )


class NotificationMarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many were marked read.")


class MemberSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The user id.")
    username = serializers.CharField()
    name = serializers.CharField()
    role = serializers.ChoiceField(choices=Role.choices)


class TeamSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class DirectorySerializer(serializers.Serializer):
    members = MemberSerializer(many=True)
    teams = TeamSerializer(many=True)
    labels = LabelSerializer(many=True)
