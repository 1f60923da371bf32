"""Agent pages. Thin: selectors give the data; live updates come over the websocket (static/inbox.js).

The inbox is one page in three panes: views (built-in and saved, with live counts), the filtered conversation
list, and the open conversation (thread with notes, composer, contact sidebar). The list's filter travels in the
URL (``?filter=<json>`` or ``?view=<key or id>``), so a view can be bookmarked and the back button works.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from inbox import channel_rules, filters, permissions, realtime, selectors
from inbox.models import Conversation
from inbox.services import contacts as contact_services
from inbox.services import conversations as conversation_services
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


@login_required
def index(request: HttpRequest, conversation_id: int | None = None) -> HttpResponse:
    membership = permissions.active_membership(request.user)
    if membership is None:
        return render(request, "inbox/no_organization.html", status=403)
    saved = list(view_services.saved_views_visible(request.user))
    document, active_view, filter_error = _document(request, saved)
    page = selectors.conversation_page(user=request.user, document=document)
    current = None
    context: dict[str, Any] = {}
    if conversation_id is not None:
        try:
            current = selectors.conversation_get(user=request.user, conversation_id=conversation_id)
        except Conversation.DoesNotExist as exc:
            raise Http404(_("No such conversation")) from exc
        conversation_services.conversation_mark_read(conversation=current, user=request.user)
        context = {
            "thread": selectors.thread_items(conversation=current),
            "composer": channel_rules.composer_state(current),
            "sidebar": selectors.contact_sidebar(user=request.user, conversation=current),
            "current_labels": list(current.labels.all()),
        }
    directory = selectors.organization_directory(membership=membership)
    counts = selectors.view_counts(user=request.user, views=saved)
    list_query = request.GET.urlencode()
    return render(
        request,
        "inbox/index.html",
        {
            "membership": membership,
            "conversations": page.conversations,
            "next_cursor": page.next_cursor,
            "current": current,
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
                "current": selectors.conversation_detail_dict(current) if current else None,
                "filter": document,
                "next_cursor": page.next_cursor,
                "seq": realtime.latest_seq(membership.organization_id),
                "directory": directory,
                "active_view": active_view,
            },
            "sandbox_channels": permissions.visible_channels(request.user).filter(kind="sandbox"),
            **context,
        },
    )


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
