"""Agent pages. Thin: selectors give the data; live updates come over the websocket (static/inbox.js).

The inbox is one page in three panes: views (built-in and saved, with live counts), the filtered conversation
list, and the open conversation (thread with notes, composer, contact sidebar). The list's filter travels in the
URL (``?filter=<json>`` or ``?view=<key or id>``), so a view can be bookmarked and the back button works.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from inbox import channel_rules, filters, permissions, realtime, selectors
from inbox.models import CannedReply, Conversation, Label
from inbox.services import canned as canned_services
from inbox.services import contacts as contact_services
from inbox.services import conversations as conversation_services
from inbox.services import labels as label_services
from inbox.services import views as view_services

DEFAULT_VIEW = "open"


def _document(request: HttpRequest, saved: list[Any]) -> tuple[Any, str, str]:
    """The list's filter document, the active view key, and an error to show (if the filter was bad)."""
    if "filter" in request.GET:
        try:
            return filters.parse_filter(request.GET["filter"]), "", ""
        except filters.FilterError as exc:
            return {}, "", " ".join(exc.messages)
    if "status" in request.GET:  # links from before views existed: ?status=open, ?status= for all
        status = request.GET["status"]
        return ({"status": [status]} if status in Conversation.Status.values else {}), "", ""
    key = request.GET.get("view", DEFAULT_VIEW)
    for view in selectors.BUILTIN_VIEWS:
        if view["key"] == key:
            return view["filters"], key, ""
    for view in saved:
        if str(view.pk) == key:
            return view.filters, f"view-{view.pk}", ""
    return {"status": ["open"]}, DEFAULT_VIEW, ""


def _current_context(request: HttpRequest, conversation_id: int) -> dict[str, Any]:
    """The open conversation's panes: thread, composer, contact sidebar (and it is marked read)."""
    try:
        current = selectors.conversation_get(user=request.user, conversation_id=conversation_id)
    except Conversation.DoesNotExist as exc:
        raise Http404(_("No such conversation")) from exc
    conversation_services.conversation_mark_read(conversation=current, user=request.user)
    return {
        "current": current,
        "thread": selectors.thread_items(conversation=current),
        "composer": channel_rules.composer_state(current),
        "sidebar": selectors.contact_sidebar(user=request.user, conversation=current),
        "current_labels": list(current.labels.all()),
    }


@login_required
def index(request: HttpRequest, conversation_id: int | None = None, *, pane_only: bool = False) -> HttpResponse:
    membership = permissions.active_membership(request.user)
    if membership is None:
        return render(request, "inbox/no_organization.html", status=403)
    saved = list(view_services.saved_views_visible(request.user))
    document, active_view, filter_error = _document(request, saved)
    context: dict[str, Any] = {"current": None}
    if conversation_id is not None:
        context = _current_context(request, conversation_id)
    current = context["current"]
    if pane_only:  # in-place switching reads only the thread and contact panes: skip the list and the counts
        page, counts = selectors.ListPage([], None), {}
    else:
        page = selectors.conversation_list_items(user=request.user, document=document)
        counts = selectors.view_counts(user=request.user, views=saved)
    directory = selectors.organization_directory(membership=membership)
    list_query = request.GET.urlencode()
    return render(
        request,
        "inbox/index.html",
        {
            "membership": membership,
            "conversations": page.conversations,
            "next_cursor": page.next_cursor,
            "builtin_views": [{**v, "count": counts.get(v["key"], 0)} for v in selectors.BUILTIN_VIEWS],
            "saved_views": [{"view": v, "key": f"view-{v.pk}", "count": counts.get(f"view-{v.pk}", 0)} for v in saved],
            "active_view": active_view,
            "filter_document": document,
            "filter_json": json.dumps(document),
            "filter_error": filter_error,
            "list_query": f"?{list_query}" if list_query else "",
            "directory": directory,
            "teams": directory["teams"],
            "my_teams": list(membership.teams.all()),
            "statuses": Conversation.Status.choices,
            "priorities": Conversation.Priority.choices,
            "channel_kinds": sorted({c.kind for c in permissions.visible_channels(request.user)}),
            "page_data": {
                "user_id": request.user.pk,
                "username": request.user.get_username(),
                "current": (
                    permissions.payload_for(request.user, None, selectors.conversation_detail_dict(current))
                    if current
                    else None
                ),  # issue 5: numbers typed in the preview are masked for viewers without contact details
                "filter": document,
                "next_cursor": page.next_cursor,
                "seq": realtime.latest_seq(membership.organization_id),
                "live_check_seconds": settings.LIVE_CHECK_SECONDS,
                "directory": directory,
                "active_view": active_view,
            },
            "sandbox_channels": permissions.visible_channels(request.user).filter(kind="sandbox"),
            **context,
        },
    )


@login_required
def conversation_pane(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """The inbox page with only the conversation's panes filled (inbox.js swaps them in without a reload)."""
    response = index(request, conversation_id, pane_only=True)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def contact_edit(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """The contact sidebar's form (works without JavaScript; inbox.js submits it in the background)."""
    try:
        conversation = selectors.conversation_get(user=request.user, conversation_id=conversation_id)
    except Conversation.DoesNotExist as exc:
        raise Http404(_("No such conversation")) from exc
    try:
        contact_services.contact_update(
            user=request.user,
            contact=conversation.contact,
            name=request.POST.get("name", ""),
            phone=request.POST.get("phone", ""),
            email=request.POST.get("email", ""),
        )
        messages.success(request, _("Contact saved."))
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    return redirect("inbox:conversation", conversation_id=conversation_id)


def home(request: HttpRequest) -> HttpResponse:
    return redirect("inbox:index")


# --- management pages: labels and canned replies (owners and admins, through inbox.permissions) ---------------


def _manager(request: HttpRequest, allowed: Any) -> Any:
    """The membership of a user the policy lets manage this page; ``PermissionDenied`` (403) otherwise."""
    membership = permissions.active_membership(request.user)
    if membership is None or not allowed(request.user, membership.organization_id):
        raise PermissionDenied(_("Only owners and admins manage this."))
    return membership


def _errors(exc: Exception) -> str:
    return " ".join(getattr(exc, "messages", None) or [str(exc)])


def _organization_object(model: type[Any], membership: Any, pk: Any, missing: str) -> Any:
    """``model`` row ``pk`` of the member's organization; another organization's id answers like a missing one."""
    try:
        return model.objects.get(pk=int(pk), organization_id=membership.organization_id)
    except (model.DoesNotExist, TypeError, ValueError) as exc:
        raise Http404(missing) from exc


def _label(membership: Any, label_id: Any) -> Label:
    return _organization_object(Label, membership, label_id, _("No such label"))


@login_required
def label_list(request: HttpRequest) -> HttpResponse:
    """Labels with how many conversations carry each; create and edit (POST), delete via a confirmation page."""
    membership = _manager(request, permissions.can_manage_labels)
    form: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        fields = {key: request.POST.get(key, "") for key in ("name", "colour", "description")}
        try:
            if request.POST.get("label"):
                label = _label(membership, request.POST["label"])
                label_services.label_update(user=request.user, label=label, **fields)
                messages.success(request, _("Label “%(name)s” saved.") % {"name": label.name})
            else:
                label = label_services.label_create(
                    user=request.user, organization_id=membership.organization_id, **fields
                )
                messages.success(request, _("Label “%(name)s” created.") % {"name": label.name})
            return redirect("inbox:labels")
        except ValidationError as exc:  # keep what was typed, say what is wrong
            form = {**fields, "label": request.POST.get("label", ""), "error": _errors(exc)}
            status = 400
    labels = selectors.label_usage(organization_id=membership.organization_id)
    return render(request, "inbox/labels.html", {"labels": labels, "form": form}, status=status)


@login_required
def label_delete(request: HttpRequest, label_id: int) -> HttpResponse:
    """GET asks for confirmation (saying how many conversations lose the label); POST deletes."""
    membership = _manager(request, permissions.can_manage_labels)
    label = _label(membership, label_id)
    if request.method == "POST":
        name = label.name
        label_services.label_delete(user=request.user, label=label)
        messages.success(request, _("Label “%(name)s” deleted.") % {"name": name})
        return redirect("inbox:labels")
    usage = label.conversation_links.count()
    return render(request, "inbox/label_delete.html", {"label": label, "usage": usage})


def _canned(membership: Any, canned_id: Any) -> CannedReply:
    return _organization_object(CannedReply, membership, canned_id, _("No such canned reply"))


@login_required
def canned_reply_list(request: HttpRequest) -> HttpResponse:
    """Canned replies with a preview of each; create, edit, or preview a draft (``action=preview``) by POST."""
    membership = _manager(request, permissions.can_manage_canned_replies)
    form: dict[str, Any] = {}
    status = 200
    if request.method == "POST":
        fields = {"short_code": request.POST.get("short_code", ""), "body": request.POST.get("body", "")}
        form = {**fields, "canned": request.POST.get("canned", "")}
        if request.POST.get("action") == "preview":
            form["preview"] = selectors.canned_reply_preview(body=fields["body"], user=request.user)
        else:
            try:
                if form["canned"]:
                    canned = _canned(membership, form["canned"])
                    canned_services.canned_reply_update(user=request.user, canned=canned, **fields)
                    messages.success(request, _("/%(code)s saved.") % {"code": canned.short_code})
                else:
                    canned = canned_services.canned_reply_create(
                        user=request.user, organization_id=membership.organization_id, **fields
                    )
                    messages.success(request, _("/%(code)s created.") % {"code": canned.short_code})
                return redirect("inbox:canned-replies")
            except ValidationError as exc:
                form["error"] = _errors(exc)
                status = 400
    replies = [
        {"reply": reply, "preview": selectors.canned_reply_preview(body=reply.body, user=request.user)}
        for reply in CannedReply.objects.filter(organization_id=membership.organization_id).select_related("created_by")
    ]
    return render(
        request,
        "inbox/canned_replies.html",
        {"replies": replies, "form": form, "variables": canned_services.known_variables()},
        status=status,
    )


@login_required
def canned_reply_delete(request: HttpRequest, canned_id: int) -> HttpResponse:
    membership = _manager(request, permissions.can_manage_canned_replies)
    canned = _canned(membership, canned_id)
    if request.method == "POST":
        code = canned.short_code
        canned_services.canned_reply_delete(user=request.user, canned=canned)
        messages.success(request, _("/%(code)s deleted.") % {"code": code})
        return redirect("inbox:canned-replies")
    return render(request, "inbox/canned_reply_delete.html", {"canned": canned})
