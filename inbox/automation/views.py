"""Admin pages for auto-replies. Thin: selectors read, services write, the permission policy decides.

Only owners and admins (``permissions.can_manage_channels``) reach these pages; others get a 403 page.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from inbox import permissions
from inbox.automation import sandbox, selectors
from inbox.automation.conditions import zone
from inbox.automation.forms import BacktestForm, BusinessHoursForm, RuleForm, SandboxForm
from inbox.automation.models import AutoReplyRule
from inbox.automation.services import rules as rule_services
from inbox.models import Team


def manager_view(view):  # type: ignore[no-untyped-def]
    """Login required, then owner/admin of an organization; the membership is passed to the view."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            membership = selectors.manager_membership(request.user)
        except PermissionDenied as exc:
            return render(request, "automation/forbidden.html", {"reason": str(exc)}, status=403)
        return view(request, membership, *args, **kwargs)

    return wrapper


def _rule_or_404(membership: Any, rule_id: int) -> AutoReplyRule:
    try:
        return selectors.rule_get(organization=membership.organization, rule_id=rule_id)
    except AutoReplyRule.DoesNotExist as exc:
        raise Http404("No such rule") from exc


def _channels(request: HttpRequest, membership: Any) -> Any:
    return permissions.visible_channels(request.user, membership.organization_id).order_by("name")


@manager_view
def rule_list(request: HttpRequest, membership: Any) -> HttpResponse:
    return render(
        request,
        "automation/rules.html",
        {"rows": selectors.rule_list(organization=membership.organization), "organization": membership.organization},
    )


def _rule_form_page(request: HttpRequest, membership: Any, rule: AutoReplyRule | None) -> HttpResponse:
    channels = _channels(request, membership)
    teams = Team.objects.filter(organization_id=membership.organization_id).order_by("name")
    if request.method == "POST":
        form = RuleForm(request.POST, channels=channels, teams=teams)
        if form.is_valid():
            kwargs = form.service_kwargs()
            try:
                if rule is None:
                    rule = rule_services.rule_create(
                        user=request.user,
                        organization=membership.organization,
                        enabled=form.cleaned_data["enabled"],
                        **kwargs,
                    )
                    messages.success(request, gettext("Rule “%(name)s” created.") % {"name": rule.name})
                else:
                    rule = rule_services.rule_update(user=request.user, rule=rule, **kwargs)
                    if rule.enabled != form.cleaned_data["enabled"]:
                        rule_services.rule_set_enabled(
                            user=request.user, rule=rule, enabled=form.cleaned_data["enabled"]
                        )
                    messages.success(
                        request,
                        gettext("Rule “%(name)s” saved (version %(number)s).")
                        % {"name": rule.name, "number": rule.current_version.number},
                    )
                return redirect("automation:rules")
            except ValidationError as exc:
                form.add_error(None, exc)
        status = 400
    else:
        form = RuleForm(initial=RuleForm.initial_from(rule) if rule else None, channels=channels, teams=teams)
        status = 200
    context = {"form": form, "rule": rule}
    if rule is not None:
        context["versions"] = rule.versions.select_related("created_by").order_by("-number")[:20]
        context["runs"] = selectors.rule_runs(rule=rule, limit=20)
    return render(request, "automation/rule_form.html", context, status=status)


@manager_view
def rule_new(request: HttpRequest, membership: Any) -> HttpResponse:
    return _rule_form_page(request, membership, None)


@manager_view
def rule_edit(request: HttpRequest, membership: Any, rule_id: int) -> HttpResponse:
    return _rule_form_page(request, membership, _rule_or_404(membership, rule_id))


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@require_POST
@manager_view
def rule_toggle(request: HttpRequest, membership: Any, rule_id: int) -> HttpResponse:
    rule = _rule_or_404(membership, rule_id)
    enabled = request.POST.get("enabled") in ("1", "true", "on")
    rule_services.rule_set_enabled(user=request.user, rule=rule, enabled=enabled)
    if _wants_json(request):
        return JsonResponse({"id": rule.pk, "enabled": enabled})
    messages.success(
        request, gettext("“%(name)s” switched %(value)s.") % {"name": rule.name, "value": "on" if enabled else "off"}
    )
    return redirect("automation:rules")


@require_POST
@manager_view
def rule_move(request: HttpRequest, membership: Any, rule_id: int) -> HttpResponse:
    """Move one rule up or down (the keyboard and no-JS way to reorder)."""
    rule = _rule_or_404(membership, rule_id)
    ids = [row.rule.pk for row in selectors.rule_list(organization=membership.organization)]
    i = ids.index(rule.pk)
    j = i - 1 if request.POST.get("direction") == "up" else i + 1
    if 0 <= j < len(ids):
        ids[i], ids[j] = ids[j], ids[i]
        rule_services.rules_reorder(user=request.user, organization=membership.organization, rule_ids=ids)
    if _wants_json(request):
        return JsonResponse({"order": ids})
    return redirect("automation:rules")


@require_POST
@manager_view
def rules_reorder(request: HttpRequest, membership: Any) -> HttpResponse:
    """POST ``{"order": [rule ids]}`` (the drag-and-drop list)."""
    try:
        order = json.loads(request.body or b"{}").get("order")
        if not isinstance(order, list):
            raise ValueError
        rule_services.rules_reorder(user=request.user, organization=membership.organization, rule_ids=order)
    except (ValueError, TypeError, AttributeError):
        return JsonResponse({"error": 'Send {"order": [rule ids]}.'}, status=400)
    except ValidationError as exc:
        return JsonResponse({"error": "; ".join(exc.messages)}, status=400)
    return JsonResponse({"order": order})


@require_POST
@manager_view
def rule_delete(request: HttpRequest, membership: Any, rule_id: int) -> HttpResponse:
    rule = _rule_or_404(membership, rule_id)
    name = rule.name
    rule_services.rule_delete(user=request.user, rule=rule)
    messages.success(request, gettext("Rule “%(name)s” deleted.") % {"name": name})
    return redirect("automation:rules")


@manager_view
def sandbox_page(request: HttpRequest, membership: Any) -> HttpResponse:
    organization = membership.organization
    channels = _channels(request, membership)
    tz = zone(organization.time_zone)
    result = backtest = None
    status = 200
    form = SandboxForm(channels=channels, initial={"at": timezone.now().astimezone(tz).strftime("%Y-%m-%dT%H:%M")})
    backtest_form = BacktestForm()
    if request.method == "POST" and request.POST.get("action") == "backtest":
        backtest_form = BacktestForm(request.POST)
        if backtest_form.is_valid():
            backtest = sandbox.backtest(organization=organization, days=backtest_form.cleaned_data["days"])
        else:
            status = 400
    elif request.method == "POST":
        form = SandboxForm(request.POST, channels=channels)
        if form.is_valid():
            d = form.cleaned_data
            # The admin typed a wall-clock time of the organization; the form read it in UTC, so keep the
            # digits and change the zone.
            at: datetime = d["at"].replace(tzinfo=tz) if d["at"] else timezone.now()
            channel = channels.filter(pk=d["channel"]).first() if d["channel"] else None
            result = sandbox.sandbox_test(
                organization=organization,
                text=d["text"],
                channel=channel,
                at=at,
                first_message=d["first_message"],
                returning_contact=d["returning_contact"],
                assigned=d["assigned"],
                has_tracking_id=d["has_tracking_id"],
            )
        else:
            status = 400
    return render(
        request,
        "automation/sandbox.html",
        {
            "form": form,
            "backtest_form": backtest_form,
            "result": result,
            "backtest": backtest,
            "organization": organization,
            "has_rules": AutoReplyRule.objects.filter(organization=organization).exists(),
        },
        status=status,
    )


@manager_view
def business_hours(request: HttpRequest, membership: Any) -> HttpResponse:
    organization = membership.organization
    status = 200
    if request.method == "POST":
        form = BusinessHoursForm(request.POST)
        if form.is_valid():
            try:
                rule_services.business_hours_set(
                    user=request.user, organization=organization, weekly=form.weekly(), holidays=form.holiday_list()
                )
                messages.success(request, gettext("Business hours saved."))
                return redirect("automation:business_hours")
            except ValidationError as exc:
                form.add_error(None, exc)
        status = 400
    else:
        form = BusinessHoursForm(initial=BusinessHoursForm.initial_from(selectors.business_hours_of(organization.pk)))
    return render(
        request, "automation/business_hours.html", {"form": form, "organization": organization}, status=status
    )
