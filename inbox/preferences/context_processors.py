from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def preferences(request: HttpRequest) -> dict[str, Any]:
    """The user's preferences (set by the middleware) and the languages, for the switcher in base.html."""
    return {"user_preference": getattr(request, "user_preference", None), "switcher_languages": settings.LANGUAGES}
