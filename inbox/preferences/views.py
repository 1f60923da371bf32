"""The preferences page and the language switcher. Thin: the service stores, the middleware applies."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from inbox.preferences.forms import PreferenceForm
from inbox.preferences.services import preference_get, preference_update


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    current = preference_get(user=request.user)
    if request.method == "POST":
        form = PreferenceForm(request.POST)
        if form.is_valid():
            try:
                saved = preference_update(user=request.user, **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                # Show the confirmation in the language just chosen.
                translation.activate(saved.language or translation.get_language_from_request(request))
                messages.success(request, _("Preferences saved."))
                response = redirect("preferences:edit")
                _remember_language(response, saved.language)
                return response
        status = 400
    else:
        form = PreferenceForm(
            initial={
                "language": current.language,
                "time_zone": current.time_zone,
                "notifications": current.notifications,
                "sound": current.sound,
            }
        )
        status = 200
    return render(request, "preferences/edit.html", {"form": form}, status=status)


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's ``set_language`` (cookie + redirect), also saved as the signed-in user's preference."""
    response = django_set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and translation.check_for_language(language):
        preference_update(user=request.user, language=language)
    return response


def _remember_language(response: HttpResponse, language: str) -> None:
    from django.conf import settings

    if language:
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, samesite="Lax")
    else:
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)
