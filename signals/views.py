"""Admin pages of the signals app, and the built-in sandbox Events API. Thin: services write, selectors read.

Owners and admins edit (``inbox.permissions.can_manage_channels``); supervisors may read the audit pages.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from inbox import permissions
from inbox.access.services.audit import audit_export, audit_settings_change  # issue 5: the audit log
from inbox.models import Membership
from signals import selectors
from signals.client import sandbox_validate
from signals.models import AdvertiserAccount, KeywordList, MessageEventRule, SignalDelivery, TrackingExtractorRule
from signals.services import accounts, delivery, extractors, keywords

View = Callable[..., HttpResponse]


def _membership(request: HttpRequest, *, manage: bool) -> Membership:
    membership = permissions.active_membership(request.user)
    if membership is None or not permissions.membership_has_permission(membership, "view_reports"):
        raise PermissionDenied("Signals to TikTok are for members who may view reports.")
    if manage and not permissions.membership_has_permission(membership, "manage_signals"):
        raise PermissionDenied("Only members who may manage signals can change these settings.")
    return membership


def signals_page(*, manage_get: bool = False) -> Callable[[View], View]:
    """Login required; GET needs a supervisor or above (or a manager with ``manage_get``), POST a manager."""

    def decorate(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            membership = _membership(request, manage=manage_get or request.method == "POST")
            return view(request, membership, *args, **kwargs)

        return wrapped

    return decorate


def _context(request: HttpRequest, membership: Membership, **extra: Any) -> dict[str, Any]:
    return {
        "membership": membership,
        "can_manage": permissions.can_manage_channels(request.user, membership.organization_id),
        "sandbox_channels": permissions.visible_channels(request.user).filter(kind="sandbox"),
        **extra,
    }


def _flash_errors(request: HttpRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


# --- keywords ---------------------------------------------------------------------------------------------------


@signals_page()
def keyword_lists(request: HttpRequest, membership: Membership) -> HttpResponse:
    org = membership.organization
    if request.method == "POST":
        action = request.POST.get("action")
        kw_list_id = request.POST.get("list")
        try:
            if action == "create_list":
                keywords.keyword_list_create(
                    organization=org,
                    name=request.POST.get("name", ""),
                    tiktok_provided=bool(request.POST.get("tiktok")),
                )
            else:
                kw_list = get_object_or_404(KeywordList, organization=org, pk=request.POST.get("list"))
                if action == "add":
                    added = keywords.keyword_add(
                        keyword_list=kw_list, phrase=request.POST.get("phrase", ""), flag=request.POST.get("flag", "")
                    )
                    if added.warning:
                        messages.warning(request, added.warning)
                    messages.success(
                        request,
                        gettext("“%(phrase)s” raises the flag “%(flag)s”.")
                        % {"phrase": added.keyword.phrase, "flag": added.keyword.flag},
                    )
                elif action == "remove":
                    keywords.keyword_remove(keyword_list=kw_list, keyword_id=int(request.POST.get("keyword", 0)))
                elif action == "import":
                    upload = request.FILES.get("file")
                    data = upload.read().decode("utf-8-sig") if upload else request.POST.get("csv", "")
                    count, warnings = keywords.keywords_import_csv(keyword_list=kw_list, data=data)
                    messages.success(request, gettext("Imported %(count)s keywords.") % {"count": count})
                    for warning in warnings[:20]:
                        messages.warning(request, warning)
                elif action == "tiktok":
                    keywords.keyword_list_set_tiktok_provided(
                        keyword_list=kw_list, tiktok_provided=request.POST.get("value") == "1"
                    )
            audit_settings_change(
                request, area="signals.keywords", action=action, target=org, details={"list": kw_list_id}
            )
        except ValidationError as exc:
            _flash_errors(request, exc)
        return redirect("signals:keywords")
    lists = KeywordList.objects.filter(organization=org).prefetch_related("keywords")
    return render(request, "signals/keywords.html", _context(request, membership, lists=lists))


@signals_page()
def keyword_export(request: HttpRequest, membership: Membership, list_id: int) -> HttpResponse:
    kw_list = get_object_or_404(KeywordList, organization=membership.organization, pk=list_id)
    audit_export(request, export=f"keywords-{kw_list.pk}.csv")
    response = HttpResponse(keywords.keywords_export_csv(keyword_list=kw_list), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="keywords-{kw_list.pk}.csv"'
    return response


# --- extractors -------------------------------------------------------------------------------------------------


@signals_page()
def extractor_rules(request: HttpRequest, membership: Membership) -> HttpResponse:
    org = membership.organization
    extractors.extractor_rules_ensure_defaults(organization_id=org.pk)
    form_values: dict[str, str] = {}
    if request.method == "POST":
        action = request.POST.get("action")
        rule_id = int(request.POST.get("rule") or 0)
        if action == "add":
            form_values = {k: request.POST.get(k, "") for k in ("name", "kind", "pattern", "field")}
            try:
                extractors.extractor_rule_add(organization=org, **form_values)
            except ValidationError as exc:
                rules = TrackingExtractorRule.objects.filter(organization=org)
                context = _context(request, membership, rules=rules, form=form_values, form_errors=exc.messages)
                return render(request, "signals/extractors.html", context, status=400)
            messages.success(
                request, gettext("Extractor “%(value)s” added at the end.") % {"value": form_values["name"]}
            )
        elif action in ("up", "down"):
            extractors.extractor_rule_move(organization=org, rule_id=rule_id, direction=-1 if action == "up" else 1)
        elif action in ("enable", "disable"):
            extractors.extractor_rule_set_enabled(organization=org, rule_id=rule_id, enabled=action == "enable")
        elif action == "delete":
            extractors.extractor_rule_delete(organization=org, rule_id=rule_id)
        audit_settings_change(request, area="signals.extractors", action=action, target=org, details={"rule": rule_id})
        return redirect("signals:extractors")
    rules = TrackingExtractorRule.objects.filter(organization=org)
    return render(request, "signals/extractors.html", _context(request, membership, rules=rules, form={}))


# --- message events and advertiser accounts ---------------------------------------------------------------------


@signals_page()
def event_settings(request: HttpRequest, membership: Membership) -> HttpResponse:
    org = membership.organization
    if request.method == "POST":
        action = request.POST.get("action")
        post = request.POST
        try:
            if action == "connect":
                accounts.advertiser_connect(
                    organization=org,
                    name=post.get("name", ""),
                    event_set_id=post.get("event_set_id", ""),
                    access_token=post.get("access_token", ""),
                    advertiser_id=post.get("advertiser_id", ""),
                    event_source=post.get("event_source", ""),
                    test_event_code=post.get("test_event_code", ""),
                    is_sandbox=bool(post.get("is_sandbox")),
                )
                messages.success(request, gettext("Advertiser account connected."))
            elif action in ("update", "disconnect", "reconnect"):
                account = get_object_or_404(AdvertiserAccount, organization=org, pk=post.get("account"))
                if action == "update":
                    accounts.advertiser_update(
                        account=account,
                        event_set_id=post.get("event_set_id", ""),
                        event_source=post.get("event_source", ""),
                        test_event_code=post.get("test_event_code", ""),
                        access_token=post.get("access_token", ""),
                    )
                elif action == "disconnect":
                    accounts.advertiser_disconnect(account=account)
                    messages.info(
                        request, gettext("Disconnected: nothing more is sent. Pending events and history are kept.")
                    )
                else:
                    accounts.advertiser_reconnect(account=account)
            elif action == "add_rule":
                account = get_object_or_404(AdvertiserAccount, organization=org, pk=post.get("account"))
                accounts.event_rule_create(
                    organization=org,
                    trigger=post.get("trigger", ""),
                    event_name=post.get("event_name", ""),
                    advertiser_account=account,
                    flag=post.get("flag", ""),
                )
            elif action in ("enable_rule", "disable_rule"):
                accounts.event_rule_set_enabled(
                    organization=org, rule_id=int(post.get("rule") or 0), enabled=action == "enable_rule"
                )
            elif action == "delete_rule":
                accounts.event_rule_delete(organization=org, rule_id=int(post.get("rule") or 0))
            audit_settings_change(request, area="signals.events", action=action, target=org, details=post.dict())
        except ValidationError as exc:
            _flash_errors(request, exc)
        return redirect("signals:events")
    context = _context(
        request,
        membership,
        accounts=AdvertiserAccount.objects.filter(organization=org).order_by("-status", "name"),
        rules=MessageEventRule.objects.filter(organization=org).select_related("advertiser_account"),
        triggers=MessageEventRule.Trigger.choices,
        counts=selectors.outbox_counts(organization_id=org.pk),
    )
    return render(request, "signals/events.html", context)


# --- audit: sent to TikTok, dead letters ------------------------------------------------------------------------


@signals_page()
def sent(request: HttpRequest, membership: Membership) -> HttpResponse:
    outcome = request.GET.get("status", "")
    if outcome not in SignalDelivery.Outcome.values:
        outcome = ""
    page = Paginator(selectors.deliveries(organization_id=membership.organization_id, outcome=outcome), 25).get_page(
        request.GET.get("page")
    )
    context = _context(request, membership, page=page, outcome=outcome, outcomes=SignalDelivery.Outcome.choices)
    return render(request, "signals/sent.html", context)


@signals_page()
def dead(request: HttpRequest, membership: Membership) -> HttpResponse:
    if request.method == "POST":
        ids = None if request.POST.get("all") else [int(i) for i in request.POST.getlist("event") if i.isdigit()]
        count = delivery.signal_events_replay(organization_id=membership.organization_id, event_ids=ids)
        messages.success(request, gettext("%(count)s events put back in the queue.") % {"count": count})
        return redirect("signals:dead")
    page = Paginator(selectors.dead_letters(organization_id=membership.organization_id), 50).get_page(
        request.GET.get("page")
    )
    return render(request, "signals/dead.html", _context(request, membership, page=page))


# --- dashboard --------------------------------------------------------------------------------------------------


def _date(value: str | None, default: date) -> date:
    try:
        return date.fromisoformat(value) if value else default
    except ValueError:
        return default


@signals_page()
def dashboard(request: HttpRequest, membership: Membership) -> HttpResponse:
    today = timezone.localdate()
    end = _date(request.GET.get("end"), today)
    start = _date(request.GET.get("start"), end - timedelta(days=29))
    start, end = min(start, end), max(start, end)
    channels = permissions.visible_channels(request.user)
    channel_id = request.GET.get("channel") or ""
    channel = int(channel_id) if channel_id.isdigit() and channels.filter(pk=int(channel_id)).exists() else None
    board = selectors.dashboard(organization_id=membership.organization_id, start=start, end=end, channel_id=channel)
    context = _context(
        request,
        membership,
        board=board,
        chart=selectors.chart_data(board),
        start=start,
        end=end,
        channels=channels,
        channel_id=channel,
    )
    return render(request, "signals/dashboard.html", context)


# --- the built-in sandbox Events API ----------------------------------------------------------------------------


@csrf_exempt
@require_POST
def sandbox_track(request: HttpRequest) -> JsonResponse:
    """``POST /signals/sandbox-events/open_api/v1.3/event/track/``: validates like TikTok and answers the envelope.
    Delivery of sandbox accounts calls the same :func:`signals.client.sandbox_validate` in-process."""
    return JsonResponse(sandbox_validate(request.body, request.headers.get("Access-Token", "")))


@login_required
def index(request: HttpRequest) -> HttpResponse:
    return redirect("signals:dashboard")
