"""Webhook endpoints: thin. Verify, store and acknowledge happen in ``integrations.services.webhooks``."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from integrations.channels.base import WebhookRequest
from integrations.services import webhooks

MAX_BODY_BYTES = 1024 * 1024


def _webhook_request(request: HttpRequest) -> WebhookRequest:
    return WebhookRequest(
        method=request.method or "",
        body=request.body,
        headers={k.lower(): v for k, v in request.headers.items()},
        query={k: request.GET.get(k, "") for k in request.GET},
    )


@csrf_exempt
@require_http_methods(["GET", "POST"])
def webhook(request: HttpRequest, provider: str, channel_id: int | None = None) -> HttpResponse:
    if request.method == "GET":
        status, text = webhooks.webhook_handshake(
            provider=provider, channel_id=channel_id, request=_webhook_request(request)
        )
        return HttpResponse(text, status=status, content_type="text/plain")
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError:  # a malformed header is the sender's error: 400, not a 500
        return JsonResponse({"error": "invalid Content-Length header"}, status=400)
    if length > MAX_BODY_BYTES:
        return JsonResponse({"error": "body too large"}, status=413)
    ack = webhooks.webhook_receive(provider=provider, channel_id=channel_id, request=_webhook_request(request))
    body = {"status": ack.detail} if ack.status < 400 else {"error": ack.detail}
    return JsonResponse(body, status=ack.status)
