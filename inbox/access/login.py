"""The login: password (counted by django-axes), then, for members who turned on 2FA, a code.

The password step of an enrolled user logs nobody in: it leaves a short-lived "pending" mark in the session
(user id, backend, where to go next) and sends them to the code step. Only a right code calls ``login()``, so no
session ever holds a user who skipped the second factor. A wrong code counts as a failed login for axes (the
same lockout), and too many on one password restart the login.
"""

from __future__ import annotations

import math
import time
from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import get_user_model, login, user_login_failed
from django.contrib.auth.views import LoginView, redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django_otp import login as otp_login

from inbox.access.services import two_factor
from inbox.access.services.audit import client_ip

PENDING_KEY = "access_2fa_pending"
MAX_CODE_TRIES = 5


class SwitchboardLoginView(LoginView):
    template_name = "auth/login.html"

    def form_valid(self, form: Any) -> HttpResponse:
        user = form.get_user()
        if not two_factor.has_two_factor(user):
            return super().form_valid(form)
        self.request.session.cycle_key()  # a new key for the half-logged-in state, as login() would do
        self.request.session[PENDING_KEY] = {
            "user_id": user.pk,
            "backend": getattr(user, "backend", "django.contrib.auth.backends.ModelBackend"),
            "next": self.get_success_url(),
            "at": time.time(),
            "tries": 0,
        }
        return redirect("login-verify")


def _pending(request: HttpRequest) -> dict[str, Any] | None:
    pending = request.session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    if time.time() - float(pending.get("at", 0)) > settings.TWO_FACTOR_PENDING_SECONDS:
        request.session.pop(PENDING_KEY, None)
        return None
    return pending


def login_verify(request: HttpRequest) -> HttpResponse:
    """The second step: a code from the authenticator app or a backup code."""
    pending = _pending(request)
    if pending is None:
        return redirect_to_login(request.GET.get("next") or reverse(settings.LOGIN_REDIRECT_URL))
    user = get_user_model().objects.filter(pk=pending["user_id"], is_active=True).first()
    if user is None:
        request.session.pop(PENDING_KEY, None)
        return redirect("login")
    credentials = {"username": user.get_username()}
    if AxesProxyHandler.is_locked(request, credentials):
        request.session.pop(PENDING_KEY, None)
        return lockout_response(request)
    error = ""
    if request.method == "POST":
        device = two_factor.two_factor_verify(user=user, code=request.POST.get("code", ""))
        if device is not None:
            request.session.pop(PENDING_KEY, None)
            login(request, user, backend=pending["backend"])  # axes resets the failure count on this
            otp_login(request, device)
            return HttpResponseRedirect(pending["next"])
        # Counts toward the same lockout as a wrong password.
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        if getattr(request, "axes_locked_out", False) or AxesProxyHandler.is_locked(request, credentials):
            request.session.pop(PENDING_KEY, None)
            return lockout_response(request)
        pending["tries"] = int(pending.get("tries", 0)) + 1
        if pending["tries"] >= MAX_CODE_TRIES:
            request.session.pop(PENDING_KEY, None)
            return redirect("login")
        request.session[PENDING_KEY] = pending
        error = _("That code is not right. Use the newest code from your app, or one of your backup codes.")
    return render(request, "auth/verify.html", {"error": error}, status=400 if error else 200)


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    """django-axes' lockout answer (``AXES_LOCKOUT_CALLABLE``): a 429 page saying what happened and how long."""
    cooloff = settings.AXES_COOLOFF_TIME
    minutes = max(1, math.ceil(cooloff.total_seconds() / 60)) if cooloff else 0
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "cooloff_minutes": minutes}
    return render(request, "auth/lockout.html", context, status=settings.AXES_HTTP_RESPONSE_CODE)


def admin_login(request: HttpRequest) -> HttpResponse:
    """The admin site logs in through our login (lockout and 2FA), never with its own password-only form."""
    return redirect_to_login(request.GET.get("next") or "/admin/")


def on_user_locked_out(sender: Any, request: HttpRequest | None = None, username: str = "", **kwargs: Any) -> None:
    """django-axes' ``user_locked_out`` signal: audit the lockout in the member's organizations."""
    two_factor.login_lockout_record(username=username or "", ip=client_ip(request) or kwargs.get("ip_address"))
