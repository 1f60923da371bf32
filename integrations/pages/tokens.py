"""Personal API tokens: create (the key is shown once, in the response to the POST) and revoke."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext

from integrations.services import api_tokens as token_services


@login_required
def api_tokens(request: HttpRequest) -> HttpResponse:
    new_key = None
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            if token_services.api_token_revoke(user=request.user):
                messages.success(request, gettext("Token revoked: scripts using it now get 401."))
            return redirect("integrations:api-tokens")
        new_key = token_services.api_token_create(user=request.user)
    response = render(
        request,
        "integrations/api_tokens.html",
        {"token": token_services.api_token_get(user=request.user), "new_key": new_key},
    )
    add_never_cache_headers(response)  # the page may carry a key: never cached, by the browser or a proxy
    return response
