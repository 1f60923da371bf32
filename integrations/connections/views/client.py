"""The Connections page and the OAuth client flows. Thin: services decide, these pages show."""

from __future__ import annotations

import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from inbox import permissions
from inbox.models import Channel, Membership
from integrations.connections import selectors
from integrations.connections.endpoints import Endpoints, endpoints
from integrations.connections.models import AdvertiserGrant, Connection, Provider
from integrations.connections.services import accounts, advertisers
from integrations.connections.services.states import ConnectError, session_binding


def clear_forbidden(view):  # noqa: ANN001, ANN201 - a view decorator
    """A refused permission ends on a page that says why (not Django's bare 403)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied as exc:
            return forbidden(request, exc)

    return wrapped


OAUTH_PROVIDERS = {Provider.TIKTOK.value, Provider.TIKTOK_ADS.value, Provider.MESSENGER.value}


def _membership(request: HttpRequest) -> Membership:
    """The organization whose connections the user manages (owners and admins only)."""
    memberships = Membership.objects.filter(user=request.user, is_active=True, role__in=permissions.MANAGER_ROLES)
    membership = memberships.select_related("organization").order_by("id").first()
    if membership is None:
        raise PermissionDenied("Only owners and admins of an organization can manage connections.")
    return membership


def _ep(request: HttpRequest) -> Endpoints:
    return endpoints(base_url=request.build_absolute_uri("/"))


def _callback_url(request: HttpRequest, provider: str) -> str:
    return request.build_absolute_uri(reverse("connections:callback", kwargs={"provider": provider}))


def _error_page(request: HttpRequest, error: ConnectError, status: int = 400) -> HttpResponse:
    return render(request, "connections/error.html", {"error": error, "provider": error.provider}, status=status)


@login_required
@clear_forbidden
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    membership = _membership(request)
    ep = _ep(request)
    cards = selectors.connection_cards(organization=membership.organization, ep=ep)
    return render(
        request,
        "connections/index.html",
        {
            "organization": membership.organization,
            "cards": cards,
            "nothing_connected": not any(card.connections or card.grants for card in cards),
            "audit": selectors.audit_recent(organization=membership.organization),
            "extra_cards": selectors.extra_cards(organization=membership.organization),
            "sandbox": ep.sandbox,
        },
    )


@login_required
@clear_forbidden
@require_POST
def start(request: HttpRequest, provider: str) -> HttpResponse:
    if provider not in OAUTH_PROVIDERS:
        raise Http404("Unknown provider")
    membership = _membership(request)
    channel = None
    if request.POST.get("channel_id"):
        channel = get_object_or_404(Channel, pk=request.POST["channel_id"], organization=membership.organization)
    url = accounts.connect_start(
        user=request.user,
        organization=membership.organization,
        provider=provider,
        binding=session_binding(request.session),
        redirect_uri=_callback_url(request, provider),
        ep=_ep(request),
        channel=channel,
    )
    return redirect(url)


@login_required
@clear_forbidden
@require_GET
def callback(request: HttpRequest, provider: str) -> HttpResponse:
    if provider not in OAUTH_PROVIDERS:
        raise Http404("Unknown provider")
    query = {key: request.GET.get(key, "") for key in request.GET}
    binding = session_binding(request.session)
    flow = {"user": request.user, "binding": binding, "query": query, "ep": _ep(request)}
    try:
        if provider == Provider.TIKTOK:
            connection = accounts.tiktok_connect_complete(**flow)
            messages.success(
                request,
                gettext("Connected %(account_name)s: TikTok messages arrive in the inbox.")
                % {"account_name": connection.account_name},
            )
        elif provider == Provider.MESSENGER:
            state = accounts.messenger_connect_complete(**flow)
            return redirect("connections:messenger-pages", state=state.state)
        else:
            grant = advertisers.advertiser_connect_complete(**flow)
            messages.success(
                request, gettext("TikTok shared your advertiser accounts: pick the advertiser and event set.")
            )
            return redirect(reverse("connections:index") + f"#grant-{grant.pk}")
    except ConnectError as error:
        return _error_page(request, error)
    return redirect("connections:index")


@login_required
@clear_forbidden
@require_http_methods(["GET", "POST"])
def messenger_pages(request: HttpRequest, state: str) -> HttpResponse:
    binding = session_binding(request.session)
    try:
        oauth_state, pages = accounts.messenger_pages_pending(user=request.user, binding=binding, state_value=state)
        if request.method == "POST":
            connection = accounts.messenger_page_choose(
                user=request.user,
                binding=binding,
                state_value=state,
                page_id=request.POST.get("page_id", ""),
                ep=_ep(request),
            )
            messages.success(
                request,
                gettext("Connected the Page %(account_name)s to the inbox.")
                % {"account_name": connection.account_name},
            )
            return redirect("connections:index")
    except ConnectError as error:
        return _error_page(request, error)
    pages_shown = [{"id": p["id"], "name": p["name"]} for p in pages]  # page tokens never reach the template
    return render(request, "connections/messenger_pages.html", {"pages": pages_shown, "state": oauth_state.state})


@login_required
@clear_forbidden
@require_http_methods(["GET", "POST"])
def whatsapp(request: HttpRequest) -> HttpResponse:
    membership = _membership(request)
    errors: dict[str, list[str]] = {}
    values = {"phone_number_id": "", "waba_id": ""}
    if request.method == "POST":
        values = {k: request.POST.get(k, "").strip() for k in values}
        try:
            connection = accounts.whatsapp_connect(
                user=request.user,
                organization=membership.organization,
                ep=_ep(request),
                access_token=request.POST.get("access_token", ""),
                **values,
            )
        except ValidationError as exc:
            errors = exc.message_dict
        else:
            messages.success(
                request, gettext("Connected WhatsApp %(account_name)s.") % {"account_name": connection.account_name}
            )
            return redirect("connections:index")
    return render(
        request,
        "connections/whatsapp.html",
        {"errors": errors, "values": values, "sandbox": _ep(request).sandbox},
        status=400 if errors else 200,
    )


@login_required
@clear_forbidden
@require_POST
def disconnect(request: HttpRequest, connection_id: int) -> HttpResponse:
    membership = _membership(request)
    connection = get_object_or_404(Connection, pk=connection_id, organization=membership.organization)
    accounts.connection_disconnect(connection=connection, user=request.user, ep=_ep(request))
    messages.success(
        request,
        gettext("Disconnected %(account_name)s. Its conversations stay in the inbox.")
        % {"account_name": connection.account_name},
    )
    return redirect("connections:index")


@login_required
@clear_forbidden
@require_POST
def advertiser_choose(request: HttpRequest, grant_id: int) -> HttpResponse:
    membership = _membership(request)
    grant = get_object_or_404(AdvertiserGrant, pk=grant_id, organization=membership.organization)
    try:
        advertisers.advertiser_grant_choose(
            grant=grant,
            user=request.user,
            advertiser_id=request.POST.get("advertiser_id", ""),
            event_set_id=request.POST.get("event_set_id", ""),
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect(reverse("connections:index") + f"#grant-{grant.pk}")
    messages.success(request, gettext("Signals will be reported to this advertiser and event set."))
    return redirect("connections:index")


@login_required
@clear_forbidden
@require_POST
def advertiser_disconnect(request: HttpRequest, grant_id: int) -> HttpResponse:
    membership = _membership(request)
    grant = get_object_or_404(AdvertiserGrant, pk=grant_id, organization=membership.organization)
    advertisers.advertiser_grant_disconnect(grant=grant, user=request.user, ep=_ep(request))
    messages.success(request, gettext("Disconnected the advertiser account: signals stop at once."))
    return redirect("connections:index")


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "connections/forbidden.html", {"reason": str(exception or "")}, status=403)
