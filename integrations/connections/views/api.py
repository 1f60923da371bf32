"""REST API for authorized apps: webhook subscriptions (``webhooks:subscribe``). OAuth tokens only."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from oauth2_provider.models import AccessToken
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from integrations.connections.models import AppAuthorization, TokenAuthorization, WebhookSubscription
from integrations.connections.services import app_webhooks


class SubscriptionSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookSubscription
        fields = ["id", "url", "events", "is_active", "disabled_reason", "created_at", "last_success_at"]


class SubscriptionCreateSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=500)
    events = serializers.ListField(child=serializers.CharField(max_length=60), allow_empty=False, max_length=10)


def _authorization(request: Request) -> AppAuthorization:
    if not isinstance(request.auth, AccessToken):
        raise PermissionDenied("Webhook subscriptions belong to authorized apps: call with an OAuth access token.")
    link = TokenAuthorization.objects.select_related("authorization").filter(access_token=request.auth).first()
    if link is None:
        raise PermissionDenied("This access token is not authorized for any organization.")
    return link.authorization


class WebhookSubscriptionList(APIView):
    required_scopes = ["webhooks:subscribe"]

    def get(self, request: Request) -> Response:
        authorization = _authorization(request)
        rows = authorization.subscriptions.filter(is_active=True).order_by("id")
        return Response({"results": SubscriptionSerializer(rows, many=True).data})

    def post(self, request: Request) -> Response:
        authorization = _authorization(request)
        serializer = SubscriptionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            created = app_webhooks.subscription_create(
                authorization=authorization, url=serializer.validated_data["url"],
                event_names=serializer.validated_data["events"],
            )
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages) from exc
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        data = SubscriptionSerializer(created.subscription).data
        data["secret"] = created.secret  # shown once: sign-check deliveries with it
        return Response(data, status=status.HTTP_201_CREATED)


class WebhookSubscriptionDetail(APIView):
    required_scopes = ["webhooks:subscribe"]

    def delete(self, request: Request, subscription_id: int) -> Response:
        authorization = _authorization(request)
        subscription = authorization.subscriptions.filter(pk=subscription_id, is_active=True).first()
        if subscription is None:
            raise NotFound("No such subscription.")
        app_webhooks.subscription_delete(subscription=subscription)
        return Response(status=status.HTTP_204_NO_CONTENT)
