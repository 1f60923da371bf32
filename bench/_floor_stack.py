"""The floors of ``bench/capacity.py``: the mandated stack doing the least work a stage can do.

- ``application``: an ASGI app for daphne whose consumer joins one group (named by its ``sessionid`` cookie, no
  authentication) and forwards each group message's prebuilt text frame: Channels + channels-redis + daphne
  relaying a frame, nothing else.
- ``app`` / ``insert_rows``: a Celery task (the project's Celery app and broker settings) that inserts one row per
  message, each in its own transaction, as the ingest worker stores one message per transaction.
"""

from __future__ import annotations

import hashlib
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "switchboard.settings")
django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from integrations.models import InboundWebhook  # noqa: E402
from switchboard.celery import app  # noqa: E402


class FloorConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        cookies = dict(self.scope["headers"]).get(b"cookie", b"").decode()
        self.group = "floor." + cookies.partition("sessionid=")[2].split(";")[0]
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send(text_data='{"event": "hello"}')

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def floor_frame(self, message: dict) -> None:
        await self.send(text_data=message["text"])


application = ProtocolTypeRouter({"websocket": URLRouter([path("ws/inbox/", FloorConsumer.as_asgi())])})


@app.task(name="bench.floor_insert_rows")
def insert_rows(keys: list[str]) -> int:
    for key in keys:
        InboundWebhook.objects.create(
            provider="bench-floor", body=b"{}", body_sha256=hashlib.sha256(key.encode()).hexdigest()
        )
    return len(keys)
