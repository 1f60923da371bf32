"""Channel pages for owners and admins: list, add, detail (masked secrets, webhook URLs), edit, disable."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from inbox import permissions
from inbox.models import Channel
from integrations import selectors
from integrations.channels.registry import known_providers
from integrations.forms import ChannelForm
from integrations.pages.access import forbidden, manager_page
from integrations.services import channels as channel_services
from integrations.services import templates as template_services

# Error reports (500 e-mails, debug pages) never show the secrets typed into the channel form.
hide_secrets = sensitive_post_parameters(*channel_services.SECRET_FIELDS)


def _channel(request: HttpRequest, channel_id: int) -> Channel:
    try:
        return permissions.visible_channels(request.user).select_related("credential").get(pk=channel_id)
    except Channel.DoesNotExist as exc:
        raise Http404("No such channel") from exc


@manager_page()
def channel_list(request: HttpRequest) -> HttpResponse:
    channels = list(selectors.channel_list_with_activity(user=request.user))
    rows = [
        {
            "channel": channel,
            "webhook_url": channel_services.channel_webhook_url(channel),
            "last_webhook_at": selectors.last_webhook_at(channel),
        }
        for channel in channels
    ]
    return render(request, "integrations/channel_list.html", {"rows": rows})


@hide_secrets
@manager_page()
def channel_new(request: HttpRequest) -> HttpResponse:
    kind = request.POST.get("kind") or request.GET.get("kind") or ""
    if kind not in known_providers():
        kinds = [(k, Channel.Kind(k).label if k in Channel.Kind.values else k) for k in known_providers()]
        return render(request, "integrations/channel_kind.html", {"kinds": kinds})
    form = ChannelForm(request.POST or None, kind=kind)
    if request.method == "POST" and form.is_valid():
        membership = permissions.require_membership(request.user)
        try:
            channel = channel_services.channel_create(
                organization=membership.organization,
                kind=kind,
                name=form.cleaned_data["name"],
                account_id=form.cleaned_data.get("account_id", ""),
                extra=form.extras(),
                created_by=request.user,
                **form.secrets(),
            )
        except ValidationError as exc:
            form.add_service_error(exc)
        except PermissionDenied as exc:
            return forbidden(request, str(exc))
        else:
            messages.success(
                request,
                gettext("Channel “%(name)s” added. Configure its webhook URL at the provider.")
                % {"name": channel.name},
            )
            return redirect("integrations:channel", channel_id=channel.pk)
    return render(
        request,
        "integrations/channel_form.html",
        {"form": form, "kind": kind, "kind_label": Channel.Kind(kind).label, "channel": None},
    )


@manager_page()
def channel_detail(request: HttpRequest, channel_id: int) -> HttpResponse:
    channel = _channel(request, channel_id)
    spec = channel_services.provider_fields(channel.kind)
    credentials = channel_services.channel_credentials_masked(channel)
    labels = {"app_secret": "App secret", "verify_token": "Verify token", "access_token": "Access token"}
    labels.update(dict(spec.extras))
    return render(
        request,
        "integrations/channel_detail.html",
        {
            "channel": channel,
            "account_id_label": spec.account_id_label,
            "credentials": [(labels.get(key, key), value) for key, value in credentials.items()],
            "webhook_url": channel_services.channel_webhook_url(channel),
            "app_webhook_url": channel_services.app_webhook_url(channel.kind),
            "needs_verify_token": spec.needs_verify_token,
            "supports_templates": template_services.channel_supports_templates(channel),
            "templates": list(channel.message_templates.order_by("name", "language")),
        },
    )


@hide_secrets
@manager_page()
def channel_edit(request: HttpRequest, channel_id: int) -> HttpResponse:
    channel = _channel(request, channel_id)
    initial = {"name": channel.name, "account_id": channel.account_id}
    credentials = channel_services.channel_credentials_masked(channel)
    initial.update({key: credentials.get(key, "") for key, _ in channel_services.provider_fields(channel.kind).extras})
    form = ChannelForm(request.POST or None, kind=channel.kind, editing=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            channel_services.channel_update(
                channel=channel,
                updated_by=request.user,
                name=form.cleaned_data["name"],
                account_id=form.cleaned_data.get("account_id"),
                secrets=form.secrets(),
                extra=form.extras(),
            )
        except ValidationError as exc:
            form.add_service_error(exc)
        except PermissionDenied as exc:
            return forbidden(request, str(exc))
        else:
            messages.success(request, gettext("Channel saved."))
            return redirect("integrations:channel", channel_id=channel.pk)
    return render(
        request,
        "integrations/channel_form.html",
        {"form": form, "kind": channel.kind, "kind_label": channel.get_kind_display(), "channel": channel},
    )


@require_POST
@manager_page()
def channel_status(request: HttpRequest, channel_id: int) -> HttpResponse:
    channel = _channel(request, channel_id)
    try:
        if request.POST.get("action") == "enable":
            channel_services.channel_enable(channel=channel, enabled_by=request.user)
            messages.success(request, gettext("“%(name)s” is active again.") % {"name": channel.name})
        else:
            channel_services.channel_disable(channel=channel, disabled_by=request.user)
            messages.success(
                request, gettext("“%(name)s” is disabled. Its conversations are kept.") % {"name": channel.name}
            )
    except PermissionDenied as exc:
        return forbidden(request, str(exc))
    return redirect("integrations:channel", channel_id=channel.pk)


@require_POST
@manager_page()
def channel_templates_sync(request: HttpRequest, channel_id: int) -> HttpResponse:
    """Fetch the account's message templates now (WhatsApp) and say how it went; the hourly sync does the same."""
    channel = _channel(request, channel_id)
    if not template_services.channel_supports_templates(channel):
        messages.error(request, gettext("This kind of channel has no message templates."))
        return redirect("integrations:channel", channel_id=channel.pk)
    try:
        result = template_services.templates_sync(channel=channel)
    except template_services.TemplateSyncError as exc:
        messages.error(request, gettext("The templates could not be synced: %(reason)s") % {"reason": exc})
    else:
        messages.success(
            request,
            gettext("%(total)d templates synced, %(approved)d of them approved.")
            % {"total": result.total, "approved": result.approved},
        )
    return redirect("integrations:channel", channel_id=channel.pk)
