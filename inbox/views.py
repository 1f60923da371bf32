"""Agent pages. Thin: selectors give the data; live updates come over the websocket (static/inbox.js)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from inbox import channel_rules, permissions, selectors
from inbox.models import Conversation
from inbox.services import conversations as conversation_services


@login_required
def index(request: HttpRequest, conversation_id: int | None = None) -> HttpResponse:
    membership = permissions.active_membership(request.user)
    if membership is None:
        return render(request, "inbox/no_organization.html", status=403)
    status = request.GET.get("status", "open")
    conversations = list(selectors.conversation_list(user=request.user, status=status or None)[:100])
    current = None
    thread: list = []
    composer = None
    if conversation_id is not None:
        try:
            current = selectors.conversation_get(user=request.user, conversation_id=conversation_id)
        except Conversation.DoesNotExist as exc:
            raise Http404("No such conversation") from exc
        conversation_services.conversation_mark_read(conversation=current, user=request.user)
        thread = selectors.message_list(conversation=current)
        composer = channel_rules.composer_state(current)
    return render(
        request,
        "inbox/index.html",
        {
            "membership": membership,
            "conversations": conversations,
            "current": current,
            "thread": thread,
            "composer": composer,
            "status_filter": status,
            "sandbox_channels": permissions.visible_channels(request.user).filter(kind="sandbox"),
        },
    )


def home(request: HttpRequest) -> HttpResponse:
    return redirect("inbox:index")
