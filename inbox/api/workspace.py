"""The agent's workspace over REST: labels, canned replies, saved views (+ counts), search, live catch-up."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from inbox import permissions, realtime, search, selectors
from inbox.api import schema as docs
from inbox.api.base import InboxAPIView, get_conversation, get_object, optional_int
from inbox.models import CannedReply, Label, Notification, SavedView, Team
from inbox.services import canned as canned_services
from inbox.services import labels as label_services
from inbox.services import notes as note_services
from inbox.services import views as view_services


def _text(data: Any, name: str, required: bool = True) -> str | None:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise ValidationError({name: "expected text"})
    return value


LABELS = ["labels"]
CANNED = ["canned replies"]
VIEWS = ["saved views"]
WRITE_ERRORS = {**docs.ERRORS, **docs.NOT_FOUND}


class LabelList(InboxAPIView):
    required_scopes = {"GET": ["conversations:read"]}

    @extend_schema(tags=LABELS, summary="The organization's labels", responses={200: docs.LabelListSerializer})
    def get(self, request: Request) -> Response:
        labels = Label.objects.filter(organization_id=self.membership(request).organization_id)
        return Response({"results": [selectors.label_as_dict(label) for label in labels]})

    @extend_schema(
        tags=LABELS,
        summary="Create a label (owners and admins)",
        request=docs.LabelCreateSerializer,
        responses={201: docs.LabelSerializer, **docs.ERRORS, **docs.BODY_ERRORS},
    )
    def post(self, request: Request) -> Response:
        label = label_services.label_create(
            user=request.user,
            organization_id=self.membership(request).organization_id,
            name=_text(request.data, "name") or "",
            colour=_text(request.data, "colour", required=False) or "#6b7280",
            description=_text(request.data, "description", required=False) or "",
        )
        return Response(selectors.label_as_dict(label), status=status.HTTP_201_CREATED)


class LabelDetail(InboxAPIView):
    def _label(self, request: Request, label_id: int) -> Label:
        return get_object(Label, request, label_id, self.membership(request).organization_id, "label")

    @extend_schema(
        tags=LABELS,
        summary="Change a label (owners and admins)",
        request=docs.LabelChangeSerializer,
        responses={200: docs.LabelSerializer, **WRITE_ERRORS, **docs.BODY_ERRORS},
    )
    def patch(self, request: Request, label_id: int) -> Response:
        label = label_services.label_update(
            user=request.user,
            label=self._label(request, label_id),
            name=_text(request.data, "name", required=False),
            colour=_text(request.data, "colour", required=False),
            description=_text(request.data, "description", required=False),
        )
        return Response(selectors.label_as_dict(label))

    @extend_schema(
        tags=LABELS,
        summary="Delete a label (owners and admins)",
        description="It comes off every conversation that had it.",
        request=None,
        responses={204: None, **WRITE_ERRORS},
    )
    def delete(self, request: Request, label_id: int) -> Response:
        label_services.label_delete(user=request.user, label=self._label(request, label_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


def canned_as_dict(canned: CannedReply) -> dict[str, Any]:
    return {"id": canned.pk, "short_code": canned.short_code, "body": canned.body, "created_by": canned.created_by_id}


class CannedReplyList(InboxAPIView):
    @extend_schema(
        tags=CANNED,
        summary="The organization's canned replies",
        parameters=[docs.CANNED_QUERY_PARAMETER],
        responses={200: docs.CannedReplyListSerializer},
    )
    def get(self, request: Request) -> Response:
        replies = CannedReply.objects.filter(organization_id=self.membership(request).organization_id)
        query = request.query_params.get("q", "").lstrip("/")
        if query:
            replies = replies.filter(short_code__istartswith=query)
        return Response(
            {"results": [canned_as_dict(c) for c in replies[:50]], "variables": canned_services.known_variables()}
        )

    @extend_schema(
        tags=CANNED,
        summary="Create a canned reply",
        request=docs.CannedReplyCreateSerializer,
        responses={201: docs.CannedReplySerializer, **docs.ERRORS, **docs.BODY_ERRORS},
    )
    def post(self, request: Request) -> Response:
        canned = canned_services.canned_reply_create(
            user=request.user,
            organization_id=self.membership(request).organization_id,
            short_code=_text(request.data, "short_code") or "",
            body=_text(request.data, "body") or "",
        )
        return Response(canned_as_dict(canned), status=status.HTTP_201_CREATED)


class CannedReplyDetail(InboxAPIView):
    def _canned(self, request: Request, canned_id: int) -> CannedReply:
        return get_object(CannedReply, request, canned_id, self.membership(request).organization_id, "canned reply")

    @extend_schema(
        tags=CANNED,
        summary="Change a canned reply (its author or an admin)",
        request=docs.CannedReplyChangeSerializer,
        responses={200: docs.CannedReplySerializer, **WRITE_ERRORS, **docs.BODY_ERRORS},
    )
    def patch(self, request: Request, canned_id: int) -> Response:
        canned = canned_services.canned_reply_update(
            user=request.user,
            canned=self._canned(request, canned_id),
            short_code=_text(request.data, "short_code", required=False),
            body=_text(request.data, "body", required=False),
        )
        return Response(canned_as_dict(canned))

    @extend_schema(
        tags=CANNED,
        summary="Delete a canned reply (its author or an admin)",
        request=None,
        responses={204: None, **WRITE_ERRORS},
    )
    def delete(self, request: Request, canned_id: int) -> Response:
        canned_services.canned_reply_delete(user=request.user, canned=self._canned(request, canned_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class CannedReplyRender(InboxAPIView):
    """``GET .../canned-replies/<id>/render/?conversation=<id>``: the text with its variables filled in."""

    @extend_schema(
        tags=CANNED,
        summary="A canned reply filled in for a conversation",
        parameters=[docs.CANNED_CONVERSATION_PARAMETER],
        responses={200: docs.CannedReplyRenderSerializer, **WRITE_ERRORS},
    )
    def get(self, request: Request, canned_id: int) -> Response:
        canned = get_object(CannedReply, request, canned_id, self.membership(request).organization_id, "canned reply")
        try:
            conversation_id = int(request.query_params.get("conversation", ""))
        except ValueError as exc:
            raise ValidationError({"conversation": "expected a conversation id"}) from exc
        conversation = get_conversation(request, conversation_id)
        rendered = canned_services.canned_reply_render(canned=canned, conversation=conversation, user=request.user)
        return Response({"text": rendered.text, "missing": rendered.missing})


def view_as_dict(view: SavedView) -> dict[str, Any]:
    return {
        "id": view.pk,
        "name": view.name,
        "filters": view.filters,
        "owner_id": view.owner_id,
        "shared_with_team_id": view.shared_with_team_id,
        "position": view.position,
    }


def _team(request: Request, organization_id: int) -> Team | None:
    team_id = optional_int(request.data, "shared_with_team_id")
    if team_id is None:
        return None
    team = Team.objects.filter(pk=team_id, organization_id=organization_id).first()
    if team is None:
        raise ValidationError({"shared_with_team_id": "no such team"})
    return team


class SavedViewList(InboxAPIView):
    @extend_schema(
        tags=VIEWS,
        summary="Your saved views and the built-in ones",
        responses={200: docs.SavedViewListSerializer, **docs.ERRORS},
    )
    def get(self, request: Request) -> Response:
        views = view_services.saved_views_visible(request.user)
        return Response({"results": [view_as_dict(v) for v in views], "builtin": selectors.BUILTIN_VIEWS})

    @extend_schema(
        tags=VIEWS,
        summary="Save a view",
        request=docs.SavedViewCreateSerializer,
        responses={201: docs.SavedViewSerializer, **docs.ERRORS, **docs.BODY_ERRORS},
    )
    def post(self, request: Request) -> Response:
        membership = self.membership(request)
        view = view_services.saved_view_create(
            user=request.user,
            name=_text(request.data, "name") or "",
            filters_document=request.data.get("filters", {}),
            shared_with_team=_team(request, membership.organization_id),
        )
        return Response(view_as_dict(view), status=status.HTTP_201_CREATED)


class SavedViewDetail(InboxAPIView):
    def _view(self, request: Request, view_id: int) -> SavedView:
        view = view_services.saved_views_visible(request.user).filter(pk=view_id).first()
        if view is None:
            raise NotFound("No such view.")
        return view

    @extend_schema(
        tags=VIEWS,
        summary="Change a saved view",
        request=docs.SavedViewChangeSerializer,
        responses={200: docs.SavedViewSerializer, **WRITE_ERRORS, **docs.BODY_ERRORS},
    )
    def patch(self, request: Request, view_id: int) -> Response:
        view = self._view(request, view_id)
        changes: dict[str, Any] = {}
        if "name" in request.data:
            changes["name"] = _text(request.data, "name")
        if "filters" in request.data:
            changes["filters_document"] = request.data["filters"]
        if "shared_with_team_id" in request.data:
            changes["shared_with_team"] = _team(request, view.organization_id)
        if "position" in request.data:
            changes["position"] = optional_int(request.data, "position")
        view = view_services.saved_view_update(user=request.user, view=view, **changes)
        return Response(view_as_dict(view))

    @extend_schema(tags=VIEWS, summary="Delete a saved view", request=None, responses={204: None, **WRITE_ERRORS})
    def delete(self, request: Request, view_id: int) -> Response:
        view_services.saved_view_delete(user=request.user, view=self._view(request, view_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class SavedViewCounts(InboxAPIView):
    """Counts for the sidebar: ``{"counts": {"mine": 3, "view-12": 40, ...}, "cap": 1000}``."""

    @extend_schema(
        tags=VIEWS,
        summary="How many conversations each view holds",
        responses={200: docs.SavedViewCountsSerializer, **docs.ERRORS},
    )
    def get(self, request: Request) -> Response:
        views = list(view_services.saved_views_visible(request.user))
        return Response({"counts": selectors.view_counts(user=request.user, views=views), "cap": 1000})


class Search(InboxAPIView):
    """``GET /api/v1/search/?q=...``: messages and contacts among the conversations the user may see."""

    required_scopes = {"GET": ["conversations:read"]}

    @extend_schema(
        tags=["search"],
        summary="Search messages and contacts",
        parameters=[docs.SEARCH_QUERY_PARAMETER],
        responses={200: docs.SearchSerializer, **docs.ERRORS},
    )
    def get(self, request: Request) -> Response:
        query = request.query_params.get("q", "").strip()
        if not query:
            raise ValidationError({"q": "type something to search for"})
        if len(query) > 200:
            raise ValidationError({"q": "at most 200 characters"})
        membership = permissions.active_membership(request.user)
        visible = permissions.conversations_visible_to(membership)
        pii = permissions.membership_has_permission(membership, "see_contact_pii")
        return Response(
            {
                # Issue 5: a viewer who may not see numbers cannot probe for one either.
                "messages": search.search_messages(conversations=visible, text=query)
                if pii or permissions.mask_text_pii(query) == query
                else [],
                "contacts": search.search_contacts(conversations=visible, text=query, include_pii=pii),
            }
        )


class EventsSince(InboxAPIView):
    """``GET /api/v1/events/?since=<seq>``: what a reconnecting browser missed (or ``reset: true``)."""

    @extend_schema(
        tags=["events"],
        summary="Live events missed since a sequence number",
        description="What a reconnecting browser missed on the websocket. When `reset` is true the log does not "
        "reach back that far (or too much was missed): reload instead.",
        parameters=[docs.SINCE_PARAMETER],
        responses={200: docs.EventsSerializer, **docs.ERRORS},
    )
    def get(self, request: Request) -> Response:
        membership = self.membership(request)
        try:
            since = max(0, int(request.query_params.get("since", "0") or 0))
        except ValueError as exc:
            raise ValidationError({"since": "expected a sequence number"}) from exc
        events, reset = realtime.events_since(
            organization_id=membership.organization_id,
            user_id=request.user.pk,
            channel_ids=permissions.visible_channel_ids(request.user),
            since=since,
        )
        return Response({"events": events, "reset": reset, "latest": realtime.latest_seq(membership.organization_id)})


class NotificationList(InboxAPIView):
    @extend_schema(
        tags=["notifications"],
        summary="Your newest notifications",
        responses={200: docs.NotificationListSerializer, **docs.ERRORS},
    )
    def get(self, request: Request) -> Response:
        notifications = (
            Notification.objects.filter(user=request.user).select_related("actor", "note").order_by("-id")[:50]
        )
        return Response({"results": [note_services.notification_as_dict(n) for n in notifications]})

    @extend_schema(
        tags=["notifications"],
        summary="Mark notifications read",
        request=docs.NotificationMarkSerializer,
        responses={200: docs.NotificationMarkedSerializer, **docs.ERRORS, **docs.BODY_ERRORS},
    )
    def post(self, request: Request) -> Response:
        """``POST {"ids": [..]}`` (or ``{}`` for all) marks notifications read."""
        ids = request.data.get("ids")
        if ids is not None and not (isinstance(ids, list) and all(isinstance(i, int) for i in ids)):
            raise ValidationError({"ids": "expected a list of notification ids"})
        return Response({"marked": note_services.notifications_mark_read(user=request.user, notification_ids=ids)})


class Directory(InboxAPIView):
    """Members, teams and labels of the organization (menus and @mention completion)."""

    @extend_schema(
        tags=["directory"],
        summary="Members, teams and labels of your organization",
        responses={200: docs.DirectorySerializer, **docs.ERRORS},
    )
    def get(self, request: Request) -> Response:
        return Response(selectors.organization_directory(membership=self.membership(request)))
