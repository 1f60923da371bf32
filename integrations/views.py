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
    after_sent = EnqueueAfterSent()
    ack = webhooks.webhook_receive(
        provider=provider, channel_id=channel_id, request=_webhook_request(request), enqueue=after_sent
    )
    body = {"status": ack.detail} if ack.status < 400 else {"error": ack.detail}
    return AckResponse(body, status=ack.status, after_sent=after_sent)


class EnqueueAfterSent:
    """Holds the deliveries a request stored until its answer has been sent, then enqueues their processing.

    A delivery stored inside a caller's transaction is handed over when that commits, which may be after the
    answer went out: it is enqueued at once then.
    """

    def __init__(self) -> None:
        self.webhook_ids: list[int] = []
        self.sent = False

    def __call__(self, webhook_id: int) -> None:
        if self.sent:
            webhooks.webhook_enqueue_processing(webhook_id)
        else:
            self.webhook_ids.append(webhook_id)

    def flush(self) -> None:
        self.sent = True
        for webhook_id in self.webhook_ids:
            webhooks.webhook_enqueue_processing(webhook_id)
        self.webhook_ids.clear()


class AckResponse(JsonResponse):
    """The acknowledgement; the deliveries it stored are enqueued for processing once it has been sent.

    WSGI and ASGI servers call ``close()`` after the last byte of the response, so the provider's answer never
    waits for the broker (about 2 ms of CPU per publish through Celery). A process that dies in between leaves
    the delivery ``received``, which ``integrations.sweep_pending`` enqueues again: nothing is lost.
    """

    def __init__(self, data: dict[str, str], *, status: int, after_sent: EnqueueAfterSent) -> None:
        super().__init__(data, status=status)
        self.after_sent = after_sent

    def close(self) -> None:
        try:
            self.after_sent.flush()
        finally:
            # After the enqueue: close() also sends request_finished, which closes expired database connections.
            super().close()
