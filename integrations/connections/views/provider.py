"""Switchboard as an OAuth provider: the consent page, the Authorized apps page, the webhook delivery log."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST
from oauth2_provider.views import AuthorizationView

from inbox import permissions
from inbox.models import Membership, Organization
from integrations.connections import scopes as scope_words
from integrations.connections.models import AppAuthorization, WebhookDelivery, WebhookSubscription
from integrations.connections.services import apps as app_services
from integrations.connections.services import outbound_webhooks
from integrations.connections.views.client import clear_forbidden


def _organizations(user: Any) -> list[Organization]:
    """Organizations a user may authorize apps for: those they own or administer."""
    return [
        m.organization
        for m in Membership.objects.filter(user=user, is_active=True, role__in=permissions.MANAGER_ROLES)
        .select_related("organization")
        .order_by("organization__name")
    ]


class ConsentView(AuthorizationView):
    """django-oauth-toolkit's authorization endpoint with our consent page: the app, its scopes in plain words,
    and the organization the user grants them on. Approve creates the grant; Deny answers ``access_denied``."""

    template_name = "connections/consent.html"
    _organization_id: int | None = None

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        requested = (
            (self.oauth2_data.get("scope") or self.oauth2_data.get("scopes") or [])
            if hasattr(self, "oauth2_data")
            else []
        )
        context["scope_words"] = scope_words.describe_app_scopes(list(requested))
        context["organizations"] = _organizations(self.request.user)
        context["organization_error"] = getattr(self, "_organization_error", "")
        return context

    def form_valid(self, form: Any) -> HttpResponse:
        if form.cleaned_data.get("allow"):
            allowed = {org.pk: org for org in _organizations(self.request.user)}
            try:
                organization_id = int(self.request.POST.get("organization", ""))
            except ValueError:
                organization_id = 0
            if organization_id not in allowed:
                self._organization_error = "Pick an organization you own or administer."
                self.oauth2_data = {
                    "scope": form.cleaned_data.get("scope", "").split(),
                    "client_id": form.cleaned_data.get("client_id"),
                }
                return self.form_invalid(form)
            self._organization_id = organization_id
        return super().form_valid(form)

    def create_authorization_response(self, request: Any, scopes: Any, credentials: Any, allow: Any) -> Any:
        if allow and self._organization_id is not None:
            credentials = {**credentials, "organization_id": self._organization_id}
        return super().create_authorization_response(request, scopes, credentials, allow)


@login_required
@clear_forbidden
@require_GET
def authorized_apps(request: HttpRequest) -> HttpResponse:
    authorizations = app_services.authorizations_for(user=request.user)
    for authorization in authorizations:
        authorization.scope_words = scope_words.describe_app_scopes(authorization.scopes)  # type: ignore[attr-defined]
        authorization.can_manage = app_services.can_manage_app(request.user, authorization)  # type: ignore[attr-defined]
    return render(request, "connections/apps.html", {"authorizations": authorizations})


@login_required
@clear_forbidden
@require_POST
def revoke_app(request: HttpRequest, authorization_id: int) -> HttpResponse:
    authorization = get_object_or_404(AppAuthorization.objects.select_related("application"), pk=authorization_id)
    app_services.app_authorization_revoke(authorization=authorization, user=request.user)
    messages.success(
        request,
        gettext("Revoked %(name)s: its tokens and webhooks stopped.") % {"name": authorization.application.name},
    )
    return redirect("connections:apps")


def _subscription(request: HttpRequest, subscription_id: int) -> WebhookSubscription:
    subscription = get_object_or_404(
        WebhookSubscription.objects.select_related("authorization__application", "authorization__organization"),
        pk=subscription_id,
        kind=WebhookSubscription.Kind.APP,  # a CRM endpoint's log is on the CRM webhooks page
    )
    if not app_services.can_manage_app(request.user, subscription.authorization):
        raise Http404("No such subscription")
    return subscription


@login_required
@clear_forbidden
@require_GET
def delivery_log(request: HttpRequest, subscription_id: int) -> HttpResponse:
    subscription = _subscription(request, subscription_id)
    deliveries = list(subscription.deliveries.order_by("-id").prefetch_related("attempt_log")[:100])
    can_redeliver = permissions.can_manage_channels(request.user, subscription.authorization.organization_id)
    return render(
        request,
        "connections/deliveries.html",
        {"subscription": subscription, "deliveries": deliveries, "can_redeliver": can_redeliver},
    )


@login_required
@clear_forbidden
@require_POST
def redeliver(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = get_object_or_404(WebhookDelivery.objects.select_related("subscription__authorization"), pk=delivery_id)
    _subscription(request, delivery.subscription_id)
    if not delivery.subscription.is_active:
        raise PermissionDenied("This subscription is disabled; the app must subscribe again.")
    result = outbound_webhooks.delivery_redeliver(delivery=delivery, user=request.user)
    if result is not None and result.status == WebhookDelivery.Status.DELIVERED:
        messages.success(request, gettext("Redelivered: the subscriber accepted it."))
    else:
        messages.error(
            request,
            gettext("Redelivery failed: %(value)s.") % {"value": result.last_error if result else "no such delivery"},
        )
    return redirect("connections:deliveries", subscription_id=delivery.subscription_id)
