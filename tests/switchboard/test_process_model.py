"""The production process model across processes: two WSGI, two ASGI, two workers, on PostgreSQL + Redis.

A message arriving through one HTTP process reaches an agent whose websocket lives on another process, directly
and through the nginx configuration in deploy/ (when nginx is installed; `make test` installs it as root).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import tempfile
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
import websockets
from django.test import Client
from django.utils import timezone

from inbox.models import Message, Role
from integrations.sandbox.adapter import message_body, sign
from tests.factories import MembershipFactory, OrganizationFactory, make_channel
from tests.processes import ROOT, celery_worker, daphne_on, gunicorn_server, wait_until

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

PORTS = {"web1": 8001, "ws1": 8002, "web2": 8003, "ws2": 8004}
CI = os.environ.get("CI", "").lower() == "true"


def world():
    organization = OrganizationFactory()
    channel = make_channel(organization)
    agent = MembershipFactory(organization=organization, role=Role.AGENT)
    agent.channels.add(channel)
    client = Client()
    client.force_login(agent.user)
    return channel, client.cookies["sessionid"].value


def post_message(base: str, channel, external_id: str, text: str) -> int:
    body = message_body(account_id=channel.account_id, events=[{
        "type": "message", "id": external_id, "customer": {"id": "c-" + external_id, "name": "Rin"},
        "text": text, "timestamp": timezone.now().timestamp()}])
    headers = {"X-Sandbox-Signature": sign(body, channel.credential.secrets().app_secret)}
    return httpx.post(f"{base}/webhooks/sandbox/{channel.pk}/", content=body, headers=headers, timeout=10).status_code


async def receive_body(ws_url: str, origin: str, session: str, trigger, expected: str, timeout: float = 20) -> dict:
    async with websockets.connect(ws_url, origin=origin, additional_headers={"Cookie": f"sessionid={session}"}) as ws:
        hello = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        assert hello["event"] == "hello"
        await asyncio.get_running_loop().run_in_executor(None, trigger)
        while True:
            event = json.loads(await asyncio.wait_for(ws.recv(), timeout))
            if event["event"] == "message.received" and event["payload"]["message"]["body"] == expected:
                return event


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), ExitStack() as stack:
        stack.enter_context(celery_worker())
        stack.enter_context(celery_worker())
        urls = {name: stack.enter_context((gunicorn_server if name.startswith("web") else daphne_on)(port))
                for name, port in PORTS.items()}
        yield urls


def test_message_through_http_process_a_reaches_websocket_on_process_b(stack):
    channel, session = world()
    ws_url = stack["ws2"].replace("http", "ws") + "/ws/inbox/"
    event = asyncio.run(receive_body(ws_url, stack["ws2"], session,
                                     lambda: post_message(stack["web1"], channel, "x-1", "across processes"),
                                     "across processes"))
    assert event["payload"]["conversation"]["contact_name"] == "Rin"
    wait_until(lambda: Message.objects.filter(external_id="x-1").count() == 1, message="stored once")


@pytest.fixture
def nginx(stack):
    if not shutil.which("nginx"):
        reason = "nginx is not installed: `make test` installs it as root (apt-get install nginx-light)"
        pytest.fail(reason) if CI else pytest.skip(reason)
    prefix = Path(tempfile.mkdtemp(prefix="nginx-"))
    (prefix / "tmp").mkdir()
    process = subprocess.Popen(["nginx", "-p", f"{prefix}/", "-c", str(ROOT / "deploy" / "nginx.conf"),
                                "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_until(lambda: _answers("http://127.0.0.1:8080/health/live"), message="nginx up")
        yield "http://127.0.0.1:8080"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_the_proxy_routes_websockets_to_asgi_and_the_rest_to_wsgi(nginx):
    channel, session = world()
    event = asyncio.run(receive_body(nginx.replace("http", "ws") + "/ws/inbox/", nginx, session,
                                     lambda: post_message(nginx, channel, "x-2", "through the proxy"),
                                     "through the proxy"))
    assert event["payload"]["message"]["body"] == "through the proxy"
    ready = httpx.get(f"{nginx}/health/ready").json()
    assert ready["status"] == "ready", ready
    assert httpx.get(f"{nginx}/metrics").status_code == 200  # loopback is allowed by the proxy
