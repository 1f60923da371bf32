"""Third-party apps authorized on an organization: revocation kills their tokens and webhooks at once."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from oauth2_provider.models import AccessToken, RefreshToken

from inbox import permissions
from integrations.connections.models import AppAuthorization, TokenAuthorization, WebhookDelivery
from integrations.connections.services.audit import audit_record
from integrations.connections.services.configured import outbound_changed


def can_manage_app(user: Any, authorization: AppAuthorization) -> bool:
    """Owners and admins manage every app of their organization; a user manages what they authorized."""
    if permissions.can_manage_channels(user, authorization.organization_id):
        return True
    return authorization.user_id == getattr(user, "pk", None) and permissions.active_membership(
        user, authorization.organization_id
    ) is not None


def app_authorization_revoke(*, authorization: AppAuthorization, user: Any) -> AppAuthorization:
    """Revoke an app on one organization: every access token is deleted and every refresh token revoked (the
    next API call fails), webhook subscriptions stop, pending deliveries are dropped. The log is kept."""
    if not can_manage_app(user, authorization):
        raise PermissionDenied("Only owners, admins or the person who authorized the app can revoke it.")
    with transaction.atomic():
        authorization = AppAuthorization.objects.select_for_update().get(pk=authorization.pk)
        links = TokenAuthorization.objects.filter(authorization=authorization)
        AccessToken.objects.filter(pk__in=links.exclude(access_token=None).values("access_token")).delete()
        RefreshToken.objects.filter(
            pk__in=links.exclude(refresh_token=None).values("refresh_token"), revoked__isnull=True
        ).update(revoked=timezone.now())
        authorization.revoked_at = timezone.now()
        authorization.revoked_by = user
        authorization.save(update_fields=["revoked_at", "revoked_by"])
        authorization.subscriptions.filter(is_active=True).update(is_active=False, disabled_reason="App revoked.")
        WebhookDelivery.objects.filter(
            subscription__authorization=authorization, status=WebhookDelivery.Status.PENDING
        ).update(status=WebhookDelivery.Status.FAILED, last_error="app revoked")
        outbound_changed(authorization.organization_id)
        audit_record(organization_id=authorization.organization_id, actor=user, action="app_revoked", provider="app",
                     subject=authorization.application.name, application_id=authorization.application_id)
    return authorization


def authorizations_for(*, user: Any) -> list[AppAuthorization]:
    """The apps the user may see: every app of organizations they manage, and those they authorized."""
    managed = [m.organization_id for m in user.memberships.filter(is_active=True)
               if permissions.can_manage_channels(user, m.organization_id)]
    from django.db.models import Q

    return list(
        AppAuthorization.objects.filter(Q(organization_id__in=managed) | Q(user=user))
        .select_related("application", "organization", "user")
        .prefetch_related("subscriptions")
        .order_by("revoked_at", "-last_used_at", "-created_at")
    )
