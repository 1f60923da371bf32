"""End to end on PostgreSQL + Redis + a real Celery worker: past WhatsApp's 24-hour window an agent picks an
approved template (synced from the account through the periodic task) and the reply reaches the fake Graph API
in the documented shape, once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from inbox.models import Message, Role
from integrations.models import MessageTemplate
from integrations.tasks import sync_all_message_templates
from tests.factories import MembershipFactory, OrganizationFactory, make_channel, make_conversation
from tests.fakes.graph import FakeGraphAPI
from tests.processes import celery_worker, wait_until

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

TOKEN = "e2e-template-token"
PNID = "106540352242922"
WABA = "102290129340398"


@pytest.fixture(scope="module")
def graph(django_db_setup: None, django_db_blocker: Any) -> Iterator[FakeGraphAPI]:
    fake = FakeGraphAPI(token=TOKEN).start()
    try:
        with django_db_blocker.unblock(), celery_worker(META_GRAPH_API_BASE=fake.base_url):
            yield fake
    finally:
        fake.stop()


def test_a_template_reply_outside_the_window_reaches_whatsapp_in_the_documented_shape(graph):
    org = OrganizationFactory()
    channel = make_channel(
        org, kind="whatsapp", name="WA", account_id=PNID, access_token=TOKEN, app_secret="s", extra={"waba_id": WABA}
    )
    graph.add_template(WABA, "order_update", body="Hi {{1}}, your order {{2}} has shipped.")
    conversation = make_conversation(
        channel, customer_id="16505551234", last_inbound_at=timezone.now() - timedelta(hours=26)
    )
    agent = MembershipFactory(organization=org, role=Role.AGENT, user__password=None)
    agent.channels.add(channel)
    browser = Client()
    browser.force_login(agent.user)

    sync_all_message_templates.delay()  # what beat runs every hour: the worker fetches the account's list
    wait_until(
        lambda: MessageTemplate.objects.filter(channel=channel, status="APPROVED").exists(),
        message="templates synced by the worker",
    )
    answer = browser.post(
        f"/api/v1/conversations/{conversation.pk}/messages/",
        {"template": {"name": "order_update", "language": "en_US", "parameters": ["Ada", "A-42"]}},
        content_type="application/json",
    )
    assert answer.status_code == 201, answer.content

    message = wait_until(
        lambda: Message.objects.filter(pk=answer.json()["id"], status="sent").first(), message="template sent"
    )
    assert message.body == "Hi Ada, your order A-42 has shipped."
    assert graph.sent == [
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "16505551234",
            "type": "template",
            "template": {
                "name": "order_update",
                "language": {"code": "en_US"},
                "components": [
                    {"type": "body", "parameters": [{"type": "text", "text": "Ada"}, {"type": "text", "text": "A-42"}]}
                ],
            },
        }
    ]
