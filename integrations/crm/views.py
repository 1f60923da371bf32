"""CRM pages: HubSpot settings and mappings, the sync log, signed webhooks; and the contact panel fragment the
inbox sidebar includes. Thin: services write, selectors read. Owners and admins only, except the panel, which
every member who can see one of the contact's conversations may read.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from inbox import permissions
from inbox.models import Membership
from integrations.connections.models import WebhookDelivery, WebhookSubscription
from integrations.crm import selectors, signing
from integrations.crm.hubspot import oauth
from integrations.crm.hubspot.client import HubSpotError
from integrations.crm.models import CONTACT_FIELDS, LIFECYCLE_MOMENTS, CrmSyncItem
from integrations.crm.services import connection as connection_services
from integrations.crm.services import pull, webhooks
from integrations.crm.services.items import sync_item_retry

View = Callable[..., HttpResponse]


def manager_page(view: View) -> View:
    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        membership = permissions.active_membership(request.user)
        if membership is None or not permissions.can_manage_channels(request.user, membership.organization_id):
            raise PermissionDenied("The CRM settings are for owners and admins.")
        return view(request, membership, *args, **kwargs)

    return wrapped


def _context(request: HttpRequest, membership: Membership, **extra: Any) -> dict[str, Any]:
    return {
        "membership": membership,
        "sandbox_channels": permissions.visible_channels(request.user).filter(kind="sandbox"),
        **extra,
    }


def _flash(request: HttpRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


# --- HubSpot settings -------------------------------------------------------------------------------------------


@manager_page
@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest, membership: Membership) -> HttpResponse:
    organization = membership.organization
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "connect":
                connection_services.hubspot_connect_private_app(
                    organization=organization, user=request.user, token=request.POST.get("token", "")
                )
                messages.success(
                    request, gettext("HubSpot is connected. New and changed contacts will sync from now on.")
                )
            elif action == "disconnect":
                connection_services.hubspot_disconnect(organization=organization, user=request.user)
                messages.success(request, gettext("HubSpot is disconnected. Your mappings are kept."))
            elif action == "mapping":
                post = request.POST
                connection_services.hubspot_settings_update(
                    organization=organization,
                    user=request.user,
                    field_mapping={key: post.get(f"field_{key}", "") for key in CONTACT_FIELDS},
                    lifecycle_mapping={key: post.get(f"lifecycle_{key}", "") for key in LIFECYCLE_MOMENTS},
                    deal_stage_mapping=dict(zip(post.getlist("stage_status"), post.getlist("stage_id"), strict=False)),
                    deal_pipeline=post.get("deal_pipeline", ""),
                    phone_id_property=post.get("phone_id_property", ""),
                    include_transcript=post.get("include_transcript") == "on",
                )
                messages.success(request, gettext("Mappings saved. They apply to the next sync."))
            else:
                messages.error(request, gettext("Unknown action."))
        except ValidationError as exc:
            _flash(request, exc)
            return render(request, "crm/settings.html", _settings_context(request, membership), status=400)
        return redirect("crm:settings")
    return render(request, "crm/settings.html", _settings_context(request, membership))


def _settings_context(request: HttpRequest, membership: Membership) -> dict[str, Any]:
    connection = connection_services.connection_for(membership.organization)
    stages = list(connection.deal_stage_mapping.items()) + [("", "")] * 2
    return _context(
        request,
        membership,
        connection=connection,
        missing_scopes=connection_services.missing_scopes(connection) if connection.is_active else [],
        fields=[(key, label, connection.field_mapping.get(key, "")) for key, label in CONTACT_FIELDS.items()],
        lifecycle=[(key, label, connection.lifecycle_mapping.get(key, "")) for key, label in LIFECYCLE_MOMENTS.items()],
        stages=stages,
        oauth_available=oauth.oauth_available(),
        counts=selectors.sync_counts(organization_id=membership.organization_id),
    )


@manager_page
def oauth_start(request: HttpRequest, membership: Membership) -> HttpResponse:
    if not oauth.oauth_available():
        raise Http404("HubSpot OAuth is not configured here; use a private app token.")
    state = secrets.token_urlsafe(24)
    request.session["crm_hubspot_oauth"] = {"state": state, "organization_id": membership.organization_id}
    return redirect(oauth.authorize_url(redirect_uri=_redirect_uri(request), state=state))


def _redirect_uri(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("crm:oauth-callback"))


@manager_page
def oauth_callback(request: HttpRequest, membership: Membership) -> HttpResponse:
    expected = request.session.pop("crm_hubspot_oauth", None) or {}
    state, code = request.GET.get("state", ""), request.GET.get("code", "")
    if (
        not expected
        or not secrets.compare_digest(expected.get("state", ""), state)
        or (expected.get("organization_id") != membership.organization_id)
    ):
        messages.error(
            request, gettext("The HubSpot authorization expired or did not start here. Please connect again.")
        )
        return redirect("crm:settings")
    if not code:
        messages.error(
            request,
            gettext("HubSpot did not authorize Switchboard (%(value)s).")
            % {"value": request.GET.get("error", "no code")},
        )
        return redirect("crm:settings")
    try:
        tokens, info = oauth.exchange_code(code=code, redirect_uri=_redirect_uri(request))
        connection_services.hubspot_connect_oauth(
            organization=membership.organization, user=request.user, tokens=tokens, info=info
        )
    except HubSpotError as exc:
        messages.error(request, gettext("HubSpot could not be connected: %(message)s") % {"message": exc.message})
    else:
        messages.success(request, gettext("HubSpot is connected through OAuth."))
    return redirect("crm:settings")


# --- sync log ---------------------------------------------------------------------------------------------------


@manager_page
def log_page(request: HttpRequest, membership: Membership) -> HttpResponse:
    status = request.GET.get("status", "")
    items = selectors.sync_log(organization_id=membership.organization_id, status=status)
    page = Paginator(items, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "crm/log.html",
        _context(request, membership, page=page, status=status, statuses=CrmSyncItem.Status.choices,
                 counts=selectors.sync_counts(organization_id=membership.organization_id)),
    )  # fmt: skip


@manager_page
@require_POST
def log_retry(request: HttpRequest, membership: Membership, item_id: int) -> HttpResponse:
    get_object_or_404(CrmSyncItem, pk=item_id, organization_id=membership.organization_id)
    try:
        sync_item_retry(item_id=item_id, user=request.user)
        messages.success(request, gettext("Queued again: it will be sent in a moment."))
    except ValidationError as exc:
        _flash(request, exc)
    return redirect(f"{reverse('crm:log')}?status={request.POST.get('status', '')}")


# --- webhooks ---------------------------------------------------------------------------------------------------


@manager_page
@require_http_methods(["GET", "POST"])
def webhooks_page(request: HttpRequest, membership: Membership) -> HttpResponse:
    organization = membership.organization
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        endpoint = None
        if action != "create":
            endpoint = get_object_or_404(WebhookSubscription, pk=request.POST.get("endpoint_id") or 0,
                                         organization=organization, kind=WebhookSubscription.Kind.CRM)  # fmt: skip
        try:
            if action == "create":
                _, secret = webhooks.endpoint_create(
                    organization=organization, user=request.user, url=request.POST.get("url", ""),
                    event_types=request.POST.getlist("event_types"), description=request.POST.get("description", ""),
                )  # fmt: skip
                messages.success(
                    request,
                    gettext("Endpoint added. Its signing secret, shown only now: %(secret)s") % {"secret": secret},
                )
            elif action in ("enable", "disable"):
                webhooks.endpoint_update(endpoint=endpoint, user=request.user, is_active=action == "enable")
                messages.success(
                    request, gettext("Endpoint enabled.") if action == "enable" else gettext("Endpoint disabled.")
                )
            elif action == "events":
                webhooks.endpoint_update(endpoint=endpoint, user=request.user,
                                         event_types=request.POST.getlist("event_types"))  # fmt: skip
                messages.success(request, gettext("Events saved."))
            elif action == "test":
                _answered(request, webhooks.endpoint_send_test(endpoint=endpoint, user=request.user), "The ping")
            elif action == "rotate":
                secret = webhooks.endpoint_rotate_secret(endpoint=endpoint, user=request.user)
                messages.success(
                    request, gettext("New signing secret, shown only now: %(secret)s") % {"secret": secret}
                )
            elif action == "delete":
                webhooks.endpoint_delete(endpoint=endpoint, user=request.user)
                messages.success(request, gettext("Endpoint deleted."))
            else:
                messages.error(request, gettext("Unknown action."))
            return redirect("crm:webhooks")
        except ValidationError as exc:
            _flash(request, exc)
            status = 400
    endpoints = selectors.webhook_endpoints(organization_id=organization.pk)
    for endpoint in endpoints:
        endpoint.recent = list(selectors.webhook_deliveries(endpoint=endpoint)[:10])
    return render(
        request,
        "crm/webhooks.html",
        _context(request, membership, endpoints=endpoints, event_types=webhooks.EVENT_TYPES,
                 snippet=signing.VERIFY_SNIPPET, form=request.POST if status == 400 else {}),
        status=status,
    )  # fmt: skip


@manager_page
@require_POST
def webhook_redeliver(request: HttpRequest, membership: Membership, delivery_id: int) -> HttpResponse:
    delivery = get_object_or_404(
        WebhookDelivery.objects.select_related("subscription"),
        pk=delivery_id,
        subscription__organization=membership.organization,
        subscription__kind=WebhookSubscription.Kind.CRM,
    )
    _answered(request, webhooks.delivery_redeliver(delivery=delivery, user=request.user), "The redelivery")
    return redirect("crm:webhooks")


def _answered(request: HttpRequest, delivery: WebhookDelivery | None, what: str) -> None:
    """Tests and redeliveries are sent at once: say what the endpoint answered."""
    if delivery is not None and delivery.status == WebhookDelivery.Status.DELIVERED:
        messages.success(
            request,
            gettext("%(what)s was accepted (HTTP %(last_status_code)s).")
            % {"what": what, "last_status_code": delivery.last_status_code},
        )
    else:
        messages.error(
            request,
            gettext("%(what)s failed: %(value)s.")
            % {"what": what, "value": delivery.last_error if delivery else "no such delivery"},
        )


# --- the contact panel (an HTML fragment for the inbox sidebar) --------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def contact_panel(request: HttpRequest, contact_id: int) -> HttpResponse:
    """GET: the panel as last pulled. POST: pull from HubSpot now, then the panel. 404 for a contact the user
    cannot see (no conversation of theirs with it), so existence is never revealed."""
    visible = permissions.visible_conversations(request.user).filter(contact_id=contact_id)
    organization_id = visible.values_list("organization_id", flat=True).first()
    if organization_id is None:
        raise Http404("No such contact")
    if request.method == "POST":
        pull.crm_contact_pull(organization_id=organization_id, contact_id=contact_id)
    context = selectors.contact_panel(organization_id=organization_id, contact_id=contact_id)
    if request.method == "GET" and context["connected"] and context["link"] and context["link"].pulled_at is None:
        from integrations.crm.tasks import pull_contact  # first view of a linked contact: fetch it in the background

        pull_contact.delay(organization_id, contact_id)
    return render(request, "crm/_contact_panel.html", context)
