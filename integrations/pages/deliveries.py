"""Stored webhook deliveries and rejected ones, for admins; replay of failed deliveries.

Scope (see ``integrations.selectors``): an organization's admins see the deliveries of their channels and the
app-level deliveries routed to them; superusers see everything, including deliveries no channel claimed.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from integrations import selectors
from integrations.channels.registry import known_providers
from integrations.models import InboundWebhook
from integrations.pages.access import manager_page
from integrations.services.webhooks import webhook_replay

PAGE_SIZE = 50


@manager_page(superusers=True)
def delivery_list(request: HttpRequest) -> HttpResponse:
    failed_only = request.GET.get("status") == "failed"
    provider = request.GET.get("provider", "")
    if provider not in known_providers():
        provider = ""
    webhooks = selectors.delivery_list(user=request.user, failed_only=failed_only, provider=provider)
    page = Paginator(webhooks, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = []
    for webhook in page:
        notes, hidden = selectors.delivery_notes(user=request.user, webhook=webhook)
        rows.append({"webhook": webhook, "notes": notes, "hidden_notes": hidden})
    return render(
        request,
        "integrations/deliveries.html",
        {
            "page": page,
            "rows": rows,
            "failed_only": failed_only,
            "provider": provider,
            "providers": known_providers(),
            "rejections": list(selectors.rejection_counts(user=request.user)[:200]),
        },
    )


@require_POST
@manager_page(superusers=True)
def delivery_replay(request: HttpRequest, webhook_id: int) -> HttpResponse:
    try:
        webhook = selectors.delivery_get(user=request.user, webhook_id=webhook_id)
    except InboundWebhook.DoesNotExist as exc:
        raise Http404("No such delivery") from exc
    if webhook.status == InboundWebhook.Status.PROCESSED:
        messages.info(request, gettext("Delivery %(pk)s was already processed.") % {"pk": webhook.pk})
    else:
        result = webhook_replay(webhook_id=webhook.pk)
        if result.status == InboundWebhook.Status.PROCESSED:
            messages.success(request, gettext("Delivery %(pk)s processed.") % {"pk": webhook.pk})
        else:
            messages.error(
                request, gettext("Delivery %(pk)s failed again: %(error)s") % {"pk": webhook.pk, "error": result.error}
            )
    back = request.POST.get("next", "")
    # Only back to this list (with its filters): never an open redirect.
    return redirect(back if back.startswith(reverse("integrations:deliveries")) else "integrations:deliveries")
