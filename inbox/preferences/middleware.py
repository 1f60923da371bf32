"""Activate the signed-in user's language and time zone for the request (after LocaleMiddleware and auth)."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from inbox.preferences.models import UserPreference


class UserPreferenceMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        preference = None
        if user is not None and user.is_authenticated:
            preference = UserPreference.objects.filter(user=user).only("language", "time_zone").first()
        if preference and preference.language:
            # A saved choice beats the browser's Accept-Language and the language cookie.
            translation.activate(preference.language)
            request.LANGUAGE_CODE = preference.language
        if preference and preference.time_zone:
            timezone.activate(zoneinfo.ZoneInfo(preference.time_zone))
        else:
            timezone.deactivate()
        request.user_preference = preference
        response = self.get_response(request)
        if preference and preference.language:
            response.headers.setdefault("Content-Language", preference.language)
        return response
