"""Conversations over REST: the filtered, keyset-paginated list, detail and changes, messages, notes, bulk."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import MethodNotAllowed, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from inbox import channel_rules, filters, selectors
from inbox.api import schema as docs
from inbox.api.base import (
    BULK_ACTIONS,
    CONVERSATION_SCOPES,
    InboxAPIView,
    filter_param,
    fits_bigint,
    get_conversation,
    get_object,
    int_list,
    optional_int,
)
from inbox.models import Label, Message, Team
from inbox.services import conversations as conversation_services
from inbox.services import labels as label_services
from inbox.services import messages as message_services
from inbox.services import notes as note_services


class MessageSerializer(serializers.ModelSerializer):
    sender_name = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = [
            "id",
            "conversation_id",
            "direction",
            "sender_type",
            "sender_name",
            "kind",
            "body",
            "attachments",
            "status",
            "error_reason",
            "created_at",
            "sent_at",
            "delivered_at",
            "read_at",
        ]

    def get_sender_name(self, message: Message) -> str:
        return message.sender_user.get_username() if message.sender_user_id else ""


class TemplateReferenceSerializer(serializers.Serializer):
    """An approved message template of the conversation's channel (WhatsApp), with its body variables."""

    name = serializers.CharField(max_length=512, help_text="The template's name, as synced from the account.")
    language = serializers.CharField(max_length=20, help_text="Its language code, e.g. `en_US`.")
    parameters = serializers.ListField(
        child=serializers.CharField(max_length=1024, trim_whitespace=True),
        required=False,
        default=list,
        max_length=50,
        help_text="Values for the body's {{1}}, {{2}}... in order.",
    )


class ReplySerializer(serializers.Serializer):
    body = serializers.CharField(
        allow_blank=False, trim_whitespace=True, required=False, help_text="The text; required without `template`."
    )
    template = TemplateReferenceSerializer(
        required=False,
        help_text="Send an approved template instead of `body` (WhatsApp; the only way past the 24-hour window).",
    )
    # The newest message the agent had on screen: a reply by someone else after it earns a warning.
    after_message_id = serializers.IntegerField(required=False, min_value=0)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("body" in attrs) == ("template" in attrs):
            raise ValidationError({"body": "send either a body or a template"})
        return attrs


class MessageListSerializer(serializers.Serializer):
    results = MessageSerializer(many=True, help_text="At most 200 messages (newer than `after`), oldest first.")


class ReplyAnswerSerializer(MessageSerializer):
    warning = serializers.CharField(
        required=False, help_text="With after_message_id: non-empty when someone else replied in between."
    )

    class Meta(MessageSerializer.Meta):
        fields = [*MessageSerializer.Meta.fields, "warning"]


conversation_data = selectors.conversation_detail_dict
TAGS = ["conversations"]


class ConversationList(InboxAPIView):
    """``GET /api/v1/conversations/?filter=<json>&cursor=<next_cursor>&limit=50`` (``ids=1,2`` to recheck some)."""

    required_scopes = CONVERSATION_SCOPES

    @extend_schema(
        operation_id="v1_conversations_list",
        tags=TAGS,
        summary="List conversations",
        description="The conversations you may see that match `filter`, newest activity first, a page at a time "
        "(keyset pagination: follow `next` or pass `next_cursor` as `cursor`).",
        parameters=[
            docs.FILTER_PARAMETER,
            docs.STATUS_PARAMETER,
            docs.CURSOR_PARAMETER,
            docs.LIMIT_PARAMETER,
            docs.IDS_PARAMETER,
        ],
        responses={200: docs.ConversationPageSerializer, **docs.ERRORS},
    )
    def get(self, request: Request) -> Response:
        document = filter_param(request)
        try:
            limit = min(100, max(1, int(request.query_params.get("limit", selectors.PAGE_SIZE))))
            ids_param = request.query_params.get("ids")
            ids = [int(i) for i in ids_param.split(",") if i] if ids_param is not None else None
            if ids is not None and not all(fits_bigint(i) for i in ids):
                raise ValueError("an id out of range")
        except ValueError as exc:
            raise ValidationError({"detail": "limit and ids are integers"}) from exc
        try:
            page = selectors.conversation_rows(
                user=request.user, document=document, cursor=request.query_params.get("cursor"), limit=limit, ids=ids
            )
        except filters.FilterError as exc:
            raise ValidationError({"filter": exc.messages}) from exc
        next_url = None
        if page.next_cursor:
            query = request.query_params.copy()
            query["cursor"] = page.next_cursor
            next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        return Response(
            {
                "results": page.rows,
                "next": next_url,
                "next_cursor": page.next_cursor,
                "previous": None,
            }
        )


class ConversationDetail(InboxAPIView):
    """``GET`` one conversation; ``PATCH`` its status (+ ``snoozed_until``), priority, ``assignee_id``, ``team_id``."""

    required_scopes = CONVERSATION_SCOPES

    @extend_schema(
        tags=TAGS,
        summary="One conversation",
        description="The conversation and its `composer`: whether a reply may be sent now, and until when.",
        responses={200: docs.ConversationDetailSerializer, **docs.ERRORS, **docs.NOT_FOUND},
    )
    def get(self, request: Request, conversation_id: int) -> Response:
        conversation = get_conversation(request, conversation_id)
        data = conversation_data(conversation)
        data["composer"] = channel_rules.composer_state(conversation).__dict__
        data["composer"]["templates"] = [
            {"name": t.name, "language": t.language, "body_text": t.body_text, "parameter_count": t.parameter_count}
            for t in channel_rules.templates_for(conversation.channel)
        ]
        return Response(data)

    @extend_schema(
        tags=TAGS,
        summary="Change a conversation's status, priority or assignment",
        description="Any other field answers 400. Answers the conversation as GET does.",
        request=docs.ConversationChangeSerializer,
        responses={200: docs.ConversationDetailSerializer, **docs.ERRORS, **docs.NOT_FOUND, **docs.BODY_ERRORS},
    )
    def patch(self, request: Request, conversation_id: int) -> Response:
        conversation = get_conversation(request, conversation_id)
        data = request.data
        unknown = set(data) - {"status", "snoozed_until", "priority", "assignee_id", "team_id"}
        if unknown:
            raise ValidationError({"detail": f"cannot change {sorted(unknown)[0]!r}"})
        if "status" in data:
            conversation_services.conversation_set_status(
                conversation=conversation,
                user=request.user,
                status=str(data["status"]),
                snoozed_until=_moment(data.get("snoozed_until")),
            )
        if "priority" in data:
            conversation_services.conversation_set_priority(
                conversation=conversation, user=request.user, priority=str(data["priority"])
            )
        if "assignee_id" in data or "team_id" in data:
            conversation_services.conversation_assign(
                conversation=conversation, user=request.user, **_assignment(data, conversation.organization_id)
            )
        return self.get(request, conversation_id)


def _moment(value: Any) -> Any:
    if value in (None, ""):
        return None
    moment = parse_datetime(value) if isinstance(value, str) else None
    if moment is None or moment.tzinfo is None:
        raise ValidationError({"snoozed_until": "expected an ISO 8601 date and time with a time zone"})
    return moment


def _assignment(data: Any, organization_id: int) -> dict[str, Any]:
    """``assignee``/``team`` keyword arguments from ``assignee_id``/``team_id`` (null unassigns, absent keeps)."""
    changes: dict[str, Any] = {}
    if "assignee_id" in data:
        assignee_id = optional_int(data, "assignee_id")
        if assignee_id is None:
            changes["assignee"] = None
        else:
            assignee = get_user_model().objects.filter(pk=assignee_id).first()
            if assignee is None:
                raise ValidationError({"assignee_id": "no such user"})
            changes["assignee"] = assignee
    if "team_id" in data:
        team_id = optional_int(data, "team_id")
        changes["team"] = (
            None if team_id is None else Team.objects.filter(pk=team_id, organization_id=organization_id).first()
        )
        if team_id is not None and changes["team"] is None:
            raise ValidationError({"team_id": "no such team"})
    return changes


class ConversationMessages(InboxAPIView):
    required_scopes = CONVERSATION_SCOPES

    @extend_schema(
        tags=TAGS,
        summary="A conversation's messages",
        parameters=[docs.AFTER_PARAMETER],
        responses={200: MessageListSerializer, **docs.ERRORS, **docs.NOT_FOUND},
    )
    def get(self, request: Request, conversation_id: int) -> Response:
        conversation = get_conversation(request, conversation_id)
        try:
            after = int(request.query_params.get("after", "0") or 0)
        except ValueError as exc:
            raise ValidationError({"after": "must be an integer"}) from exc
        messages = selectors.message_list(conversation=conversation, after_id=after)
        return Response({"results": MessageSerializer(messages, many=True).data})

    @extend_schema(
        tags=TAGS,
        summary="Reply to the customer",
        description="Queues the reply for sending on the conversation's channel (its `status` tells how it went). "
        "400 when the channel's rules do not allow a reply now (see the conversation's `composer`).",
        request=ReplySerializer,
        responses={201: ReplyAnswerSerializer, **docs.ERRORS, **docs.NOT_FOUND, **docs.BODY_ERRORS},
    )
    def post(self, request: Request, conversation_id: int) -> Response:
        conversation = get_conversation(request, conversation_id)
        serializer = ReplySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        template = serializer.validated_data.get("template")
        try:
            message = message_services.message_send_reply(
                conversation=conversation,
                user=request.user,
                text=serializer.validated_data.get("body", ""),
                template=dict(template) if template is not None else None,
            )
        except DjangoValidationError as exc:
            raise ValidationError({"template" if template is not None else "body": exc.messages}) from exc
        data = MessageSerializer(message).data
        after = serializer.validated_data.get("after_message_id")
        if after is not None:
            data["warning"] = selectors.collision_warning(message=message, after_message_id=after)
        return Response(data, status=status.HTTP_201_CREATED)


class ConversationRead(InboxAPIView):
    required_scopes = CONVERSATION_SCOPES

    @extend_schema(
        tags=TAGS,
        summary="Mark a conversation read (for you)",
        request=None,
        responses={204: None, **docs.ERRORS, **docs.NOT_FOUND},
    )
    def post(self, request: Request, conversation_id: int) -> Response:
        conversation = get_conversation(request, conversation_id)
        conversation_services.conversation_mark_read(conversation=conversation, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ConversationLabels(InboxAPIView):
    """``POST {"label_id": 3}`` puts a label on; ``DELETE .../labels/3/`` takes it off."""

    required_scopes = CONVERSATION_SCOPES
    schema = docs.ConversationLabelsSchema()

    @extend_schema(
        tags=TAGS,
        summary="Put a label on a conversation",
        request=docs.LabelApplySerializer,
        responses={200: docs.ConversationSerializer, **docs.ERRORS, **docs.NOT_FOUND, **docs.BODY_ERRORS},
    )
    def post(self, request: Request, conversation_id: int, label_id: int | None = None) -> Response:
        # The label comes from the body on .../labels/ and from the path on .../labels/<label_id>/.
        conversation = get_conversation(request, conversation_id)
        wanted = label_id if label_id is not None else request.data.get("label_id")
        label = get_object(Label, request, wanted, conversation.organization_id, "label")
        label_services.label_apply(user=request.user, conversation=conversation, label=label)
        return Response(conversation_data(get_conversation(request, conversation_id)))

    @extend_schema(
        tags=TAGS,
        summary="Take a label off a conversation",
        request=None,
        responses={200: docs.ConversationSerializer, **docs.ERRORS, **docs.NOT_FOUND},
    )
    def delete(self, request: Request, conversation_id: int, label_id: int | None = None) -> Response:
        if label_id is None:  # DELETE .../labels/ (no label in the path): say how, rather than a TypeError (500)
            raise MethodNotAllowed("DELETE", detail="Take a label off with DELETE .../labels/<label_id>/.")
        conversation = get_conversation(request, conversation_id)
        label = get_object(Label, request, label_id, conversation.organization_id, "label")
        label_services.label_remove(user=request.user, conversation=conversation, label=label)
        return Response(conversation_data(get_conversation(request, conversation_id)))


class ConversationNotes(InboxAPIView):
    """Private notes: ``GET`` the conversation's notes, ``POST {"body": "... @ana"}`` adds one."""

    @extend_schema(
        tags=TAGS,
        summary="A conversation's private notes",
        responses={200: docs.NoteListSerializer, **docs.ERRORS, **docs.NOT_FOUND},
    )
    def get(self, request: Request, conversation_id: int) -> Response:
        conversation = get_conversation(request, conversation_id)
        notes = conversation.notes.select_related("author").prefetch_related("mentions").order_by("id")
        return Response({"results": [selectors.note_as_dict(n) for n in notes]})

    @extend_schema(
        tags=TAGS,
        summary="Add a private note",
        description="Only agents see notes; the users mentioned with @username are notified.",
        request=docs.NoteCreateSerializer,
        responses={201: docs.NoteSerializer, **docs.ERRORS, **docs.NOT_FOUND, **docs.BODY_ERRORS},
    )
    def post(self, request: Request, conversation_id: int) -> Response:
        conversation = get_conversation(request, conversation_id)
        body = request.data.get("body")
        if not isinstance(body, str):
            raise ValidationError({"body": "expected the note's text"})
        note = note_services.note_add(user=request.user, conversation=conversation, body=body)
        return Response(selectors.note_as_dict(note), status=status.HTTP_201_CREATED)


class ConversationBulk(InboxAPIView):
    """``POST {"ids": [..], "action": "status"|"assign"|"priority"|"label"|"unlabel", ...}``.

    Only the selected conversations the user may see are changed; the answer says how many.
    """

    required_scopes = {"POST": ["conversations:write"]}

    @extend_schema(
        tags=TAGS,
        summary="Change many conversations at once",
        description="Only the selected conversations you may see (and change) are changed; `changed` says how many.",
        request=docs.BulkSerializer,
        responses={200: docs.BulkAnswerSerializer, **docs.ERRORS, **docs.NOT_FOUND, **docs.BODY_ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = request.data
        ids = int_list(data.get("ids"), "ids")
        action = data.get("action")
        user = request.user
        organization_id = self.membership(request).organization_id
        if action == "status":
            changed = conversation_services.conversation_bulk_set_status(
                user=user,
                conversation_ids=ids,
                status=str(data.get("status")),
                snoozed_until=_moment(data.get("snoozed_until")),
            )
        elif action == "assign":
            changed = conversation_services.conversation_bulk_assign(
                user=user, conversation_ids=ids, **_assignment(data, organization_id)
            )
        elif action == "priority":
            changed = conversation_services.conversation_bulk_set_priority(
                user=user, conversation_ids=ids, priority=str(data.get("priority"))
            )
        elif action in ("label", "unlabel"):
            label = get_object(Label, request, data.get("label_id"), organization_id, "label")
            changed = label_services.label_bulk_apply(
                user=user, conversation_ids=ids, label=label, remove=action == "unlabel"
            )
        else:
            raise ValidationError({"action": f"expected one of {', '.join(BULK_ACTIONS)}"})
        return Response({"changed": changed})
