"""The floor the ingest benchmark is read against: a bare Django view that inserts one row, and nothing else."""

from __future__ import annotations

import hashlib
import uuid

from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from integrations.models import InboundWebhook


@csrf_exempt
def insert_one_row(request: HttpRequest) -> HttpResponse:
    InboundWebhook.objects.create(
        provider="bench-floor", body=request.body, body_sha256=hashlib.sha256(uuid.uuid4().bytes).hexdigest()
    )
    return HttpResponse("ok")


urlpatterns = [path("bench/floor/", insert_one_row), path("", include("switchboard.urls"))]
