"""REST API of channels (Django REST Framework). Thin: the permission policy scopes, services write.

Everyone in an organization may list the channels they can see; only owners and admins create, change or
disable them. ``DELETE`` disables: a channel's conversations and messages are never deleted through the API.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from inbox import permissions
from inbox.models import Channel
from integrations.serializers import ChannelCreateSerializer, ChannelSerializer, ChannelUpdateSerializer
from integrations.services import channels as channel_services

# Error reports never show the secrets a request carried (form-encoded bodies; JSON bodies are not reported).
hide_secrets = method_decorator(sensitive_post_parameters(*channel_services.SECRET_FIELDS), name="dispatch")


class OldestFirst(CursorPagination):
    ordering = ("id",)
    page_size = 100


def _django_errors(exc: DjangoValidationError) -> ValidationError:
    """A service's ``ValidationError`` as a 400 with field messages."""
    if hasattr(exc, "error_dict"):
        fields = exc.error_dict.items()
        return ValidationError({field: [m for e in errors for m in e.messages] for field, errors in fields})
    return ValidationError({"non_field_errors": exc.messages})


def _check_manager(request: Request) -> None:
    if not permissions.can_manage_channels(request.user):
        raise PermissionDenied("Only owners and admins can add or change channels.")


def _channel(request: Request, channel_id: int) -> Channel:
    try:
        return permissions.visible_channels(request.user).select_related("credential").get(pk=channel_id)
    except Channel.DoesNotExist as exc:
        raise NotFound("No such channel.") from exc


@hide_secrets
class ChannelList(ListAPIView):
    serializer_class = ChannelSerializer
    pagination_class = OldestFirst

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return permissions.visible_channels(self.request.user).select_related("credential")

    @extend_schema(
        request=ChannelCreateSerializer,
        responses={201: ChannelSerializer},
        summary="Create a channel (owners and admins)",
        description="Takes the provider's ids and secrets; answers the channel with its webhook URL. Secrets are "
        "stored encrypted and only ever returned masked.",
    )
    def post(self, request: Request) -> Response:
        _check_manager(request)
        membership = permissions.require_membership(request.user)
        serializer = ChannelCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            channel = channel_services.channel_create(
                organization=membership.organization, created_by=request.user, **serializer.validated_data
            )
        except DjangoValidationError as exc:
            raise _django_errors(exc) from exc
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        return Response(ChannelSerializer(channel).data, status=status.HTTP_201_CREATED)


@hide_secrets
class ChannelDetail(APIView):
    serializer_class = ChannelSerializer

    @extend_schema(responses={200: ChannelSerializer}, summary="One channel")
    def get(self, request: Request, channel_id: int) -> Response:
        return Response(ChannelSerializer(_channel(request, channel_id)).data)

    @extend_schema(
        request=ChannelUpdateSerializer,
        responses={200: ChannelSerializer},
        summary="Change a channel (owners and admins)",
        description="A missing field keeps its value; an empty string clears a secret.",
    )
    def patch(self, request: Request, channel_id: int) -> Response:
        channel = _channel(request, channel_id)
        _check_manager(request)
        serializer = ChannelUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data: dict[str, Any] = dict(serializer.validated_data)
        new_status = data.pop("status", None)
        try:
            channel = channel_services.channel_update(
                channel=channel,
                updated_by=request.user,
                name=data.get("name"),
                account_id=data.get("account_id"),
                secrets={k: data[k] for k in channel_services.SECRET_FIELDS if k in data},
                extra=data.get("extra"),
            )
            if new_status == Channel.Status.DISABLED:
                channel = channel_services.channel_disable(channel=channel, disabled_by=request.user)
            elif new_status == Channel.Status.ACTIVE:
                channel = channel_services.channel_enable(channel=channel, enabled_by=request.user)
        except DjangoValidationError as exc:
            raise _django_errors(exc) from exc
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        return Response(ChannelSerializer(channel).data)

    @extend_schema(
        request=None,
        responses={204: None},
        summary="Disable a channel (owners and admins)",
        description="Disables the channel; its conversations and messages are kept. PATCH status=active undoes it.",
    )
    def delete(self, request: Request, channel_id: int) -> Response:
        channel = _channel(request, channel_id)
        _check_manager(request)
        try:
            channel_services.channel_disable(channel=channel, disabled_by=request.user)
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)
