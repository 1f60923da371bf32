"""The customer simulator pages. Only members with access to the sandbox channel may use them."""

from __future__ import annotations

import re

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from inbox import permissions
from inbox.models import Channel
from integrations.sandbox import services

CUSTOMER_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def _channel(request: HttpRequest, channel_id: int) -> Channel:
    channel = permissions.visible_channels(request.user).filter(pk=channel_id, kind="sandbox").first()
    if channel is None:
        raise Http404("No such sandbox channel")
    return channel


def _customer(request: HttpRequest) -> tuple[str, str]:
    source = request.POST if request.method == "POST" else request.GET
    customer_id = source.get("customer", "demo-customer")
    if not CUSTOMER_ID.match(customer_id):
        raise Http404("Invalid customer id")
    return customer_id, source.get("name", "") or customer_id.replace("-", " ").title()


@login_required
@require_GET
def simulator(request: HttpRequest, channel_id: int) -> HttpResponse:
    channel = _channel(request, channel_id)
    customer_id, customer_name = _customer(request)
    return render(
        request,
        "sandbox/simulator.html",
        {
            "channel": channel,
            "customer_id": customer_id,
            "customer_name": customer_name,
            "thread": services.simulator_thread(channel=channel, customer_id=customer_id),
        },
    )


@login_required
@require_GET
def simulator_messages(request: HttpRequest, channel_id: int) -> JsonResponse:
    channel = _channel(request, channel_id)
    customer_id, _ = _customer(request)
    try:
        after = int(request.GET.get("after", "0"))
    except ValueError:
        return JsonResponse({"error": "after must be an integer"}, status=400)
    return JsonResponse(
        {"messages": services.simulator_thread(channel=channel, customer_id=customer_id, after_id=after)}
    )


@login_required
@require_POST
def simulator_send(request: HttpRequest, channel_id: int) -> JsonResponse:
    channel = _channel(request, channel_id)
    customer_id, customer_name = _customer(request)
    text = request.POST.get("text", "").strip()
    if not text:
        return JsonResponse({"error": "Write a message first."}, status=400)
    if len(text) > 4096:
        return JsonResponse({"error": "A message can be at most 4096 characters."}, status=400)
    ack = services.simulator_customer_writes(
        channel=channel, customer_id=customer_id, customer_name=customer_name, text=text
    )
    return JsonResponse({"status": ack.detail}, status=ack.status)
