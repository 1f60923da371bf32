"""Who may open the integrations admin pages: owners and admins (``inbox.permissions.can_manage_channels``)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from inbox import permissions

View = Callable[..., HttpResponse]


def forbidden(request: HttpRequest, reason: str) -> HttpResponse:
    return render(request, "integrations/forbidden.html", {"reason": reason}, status=403)


def manager_page(*, superusers: bool = False) -> Callable[[View], View]:
    """Login required, then owner or admin of the organization (or a superuser where ``superusers``)."""

    def decorate(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            allowed = permissions.can_manage_channels(request.user) or (superusers and request.user.is_superuser)
            if not allowed:
                return forbidden(request, "Channels and their deliveries are managed by owners and admins.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorate
