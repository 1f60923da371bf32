"""Saved views: a named filter document, personal or shared with a team, shown in the inbox sidebar."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Q, QuerySet
from django.utils.translation import gettext as _

from inbox import filters, permissions
from inbox.models import SavedView, Team

UNCHANGED: Any = object()


def saved_views_visible(user: Any) -> QuerySet[SavedView]:
    """The user's own views and those shared with one of their teams, in sidebar order."""
    membership = permissions.active_membership(user)
    if membership is None:
        return SavedView.objects.none()
    return (
        SavedView.objects.filter(organization_id=membership.organization_id)
        .filter(Q(owner=user) | Q(shared_with_team__in=membership.teams.all()))
        .order_by("position", "id")
    )


def _check_team(user: Any, organization_id: int, team: Team | None) -> None:
    if team is None:
        return
    if team.organization_id != organization_id:
        raise ValidationError(_("That team belongs to another organization."))
    membership = permissions.require_membership(user, organization_id)
    if not membership.teams.filter(pk=team.pk).exists() and not permissions.can_manage_channels(user, organization_id):
        raise PermissionDenied(_("You can share views only with your own teams."))


def saved_view_create(
    *, user: Any, name: str, filters_document: Any, shared_with_team: Team | None = None
) -> SavedView:
    """Save a filter as a view, placed last in the sidebar. The document is validated (``FilterError``)."""
    membership = permissions.require_membership(user)
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise ValidationError(_("A view needs a name of 1 to 80 characters."))
    document = filters.parse_filter(filters_document)
    _check_team(user, membership.organization_id, shared_with_team)
    with transaction.atomic():
        last = SavedView.objects.filter(organization_id=membership.organization_id, owner=user).aggregate(
            m=Max("position")
        )["m"]
        return SavedView.objects.create(
            organization_id=membership.organization_id,
            owner=user,
            name=name,
            filters=document,
            shared_with_team=shared_with_team,
            position=(last or 0) + 1,
        )


def _check_owner(user: Any, view: SavedView) -> None:
    if view.owner_id != user.pk and not permissions.can_manage_channels(user, view.organization_id):
        raise PermissionDenied(_("Only the view's owner or an admin can change it."))


def saved_view_update(
    *,
    user: Any,
    view: SavedView,
    name: str | None = None,
    filters_document: Any = UNCHANGED,
    shared_with_team: Any = UNCHANGED,
    position: int | None = None,
) -> SavedView:
    """Rename, refilter, reshare or move a view (its owner or an admin)."""
    _check_owner(user, view)
    if name is not None:
        name = name.strip()
        if not name or len(name) > 80:
            raise ValidationError(_("A view needs a name of 1 to 80 characters."))
        view.name = name
    if filters_document is not UNCHANGED:
        view.filters = filters.parse_filter(filters_document)
    if shared_with_team is not UNCHANGED:
        _check_team(user, view.organization_id, shared_with_team)
        view.shared_with_team = shared_with_team
    if position is not None:
        if position < 0:
            raise ValidationError(_("A position is a non-negative integer."))
        view.position = position
    view.save()
    return view


def saved_view_delete(*, user: Any, view: SavedView) -> None:
    _check_owner(user, view)
    view.delete()
