"""The REST API and OAuth scopes: authentication that binds a token to its organization, and the scope check.

How an API view declares what an OAuth token needs (session and API-token users are not affected)::

    class ConversationList(ListAPIView):
        required_scopes = ["conversations:read"]                  # every method

    class ConversationMessages(APIView):
        required_scopes = {"GET": ["conversations:read"], "POST": ["conversations:write"]}  # per method

``HasRequiredScopes`` is in ``DEFAULT_PERMISSION_CLASSES``; a view that sets ``permission_classes`` itself must
list it too. A view that declares nothing refuses OAuth tokens (deny by default), so a new endpoint is never
opened to third-party apps by accident. ``request.oauth_organization_id`` names the organization the token was
authorized for (``None`` for session and API-token users): scope querysets to it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from oauth2_provider.models import AccessToken
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from inbox import permissions

LAST_USED_GRANULARITY = timedelta(minutes=1)
SAFE_HEAD = {"HEAD": "GET", "OPTIONS": "GET"}


class OrganizationOAuth2Authentication(OAuth2Authentication):
    """django-oauth-toolkit's bearer authentication, plus: the token must be tied to an authorization that is
    not revoked, whose user is still an active member of its organization. Records the app's last use."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        result = super().authenticate(request)
        if result is None:
            return None
        user, token = result
        from integrations.connections.models import TokenAuthorization

        link = (
            TokenAuthorization.objects.select_related("authorization")
            .filter(access_token=token, authorization__revoked_at__isnull=True)
            .first()
        )
        if link is None:
            raise AuthenticationFailed("This access token is not authorized for any organization.")
        authorization = link.authorization
        if permissions.active_membership(user, authorization.organization_id) is None:
            raise AuthenticationFailed("The user who authorized this app is no longer a member of the organization.")
        now = timezone.now()
        if authorization.last_used_at is None or now - authorization.last_used_at > LAST_USED_GRANULARITY:
            type(authorization).objects.filter(pk=authorization.pk).update(last_used_at=now)
        request._request.oauth_organization_id = authorization.organization_id  # type: ignore[attr-defined]
        return user, token


def required_scopes_for(view: Any, method: str) -> list[str] | None:
    """The scopes ``view`` declares for ``method``; ``None`` when it declares none (OAuth tokens refused)."""
    declared = getattr(view, "required_scopes", None)
    if declared is None:
        return None
    if isinstance(declared, dict):
        method = SAFE_HEAD.get(method, method)
        scopes = declared.get(method)
        return list(scopes) if scopes is not None else None
    return list(declared)


class HasRequiredScopes(BasePermission):
    """An OAuth access token must carry every scope the view requires for the request's method."""

    message = "This app's access token lacks the scope this endpoint needs."

    def has_permission(self, request: Request, view: Any) -> bool:
        token = request.auth
        if not isinstance(token, AccessToken):
            return True  # session or API-token user: the inbox permission policy alone decides
        required = required_scopes_for(view, request.method or "GET")
        if required is None:
            self.message = "This endpoint is not available to third-party apps."
            return False
        granted = set(token.scope.split())
        missing = [scope for scope in required if scope not in granted]
        if missing:
            self.message = f"This app's access token lacks the scope(s): {', '.join(missing)}."
            return False
        return token.is_valid()
