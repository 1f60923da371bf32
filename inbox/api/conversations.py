"""REST API of the inbox (Django REST Framework). Thin: selectors read, services write."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from inbox import channel_rules, selectors
from inbox.models import Conversation, Message
from inbox.services import conversations as conversation_services
from inbox.services import messages as message_services


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


class ConversationSerializer(serializers.ModelSerializer):
    contact_name = serializers.SerializerMethodField()
    channel_kind = serializers.CharField(source="channel.kind")
    channel_name = serializers.CharField(source="channel.name")

    class Meta:
        model = Conversation
        fields = [
            "id",
            "channel_id",
            "channel_kind",
            "channel_name",
            "contact_name",
            "status",
            "priority",
            "assignee_id",
            "team_id",
            "unread_count",
            "last_message_at",
            "last_inbound_at",
            "tracking_id",
            "ad_id",
            "campaign_id",
            "created_at",
        ]

    def get_contact_name(self, conversation: Conversation) -> str:
        return conversation.contact.name or conversation.identity.display_name or "Customer"


class ReplySerializer(serializers.Serializer):
    body = serializers.CharField(allow_blank=False, trim_whitespace=True)


class RecentFirst(CursorPagination):
    ordering = ("-last_message_at", "-id")
    page_size = 50


def _conversation(request: Request, conversation_id: int) -> Conversation:
    try:
        return selectors.conversation_get(user=request.user, conversation_id=conversation_id)
    except Conversation.DoesNotExist as exc:
        raise NotFound("No such conversation.") from exc


class ConversationList(ListAPIView):
    serializer_class = ConversationSerializer
    pagination_class = RecentFirst

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.conversation_list(
            user=self.request.user,
            status=self.request.query_params.get("status") or None,
        )


class ConversationDetail(APIView):
    def get(self, request: Request, conversation_id: int) -> Response:
        conversation = _conversation(request, conversation_id)
        data = ConversationSerializer(conversation).data
        data["composer"] = channel_rules.composer_state(conversation).__dict__
        return Response(data)


class ConversationMessages(APIView):
    def get(self, request: Request, conversation_id: int) -> Response:
        conversation = _conversation(request, conversation_id)
        try:
            after = int(request.query_params.get("after", "0") or 0)
        except ValueError as exc:
            raise ValidationError({"after": "must be an integer"}) from exc
        messages = selectors.message_list(conversation=conversation, after_id=after)
        return Response({"results": MessageSerializer(messages, many=True).data})

    def post(self, request: Request, conversation_id: int) -> Response:
        conversation = _conversation(request, conversation_id)
        serializer = ReplySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            message = message_services.message_send_reply(
                conversation=conversation, user=request.user, text=serializer.validated_data["body"]
            )
        except DjangoValidationError as exc:
            raise ValidationError({"body": exc.messages}) from exc
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)


class ConversationRead(APIView):
    def post(self, request: Request, conversation_id: int) -> Response:
        conversation = _conversation(request, conversation_id)
        conversation_services.conversation_mark_read(conversation=conversation, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
