"""A reply is sent once even when two tasks for it run at the same time.

That happens in production: a reply whose provider is slow or failing stays ``queued`` while its task retries
with backoff, and once it is older than ``OUTBOX_SWEEP_AFTER_SECONDS`` the sweep enqueues a second task for it;
a worker restart with ``acks_late``-like redelivery does the same. Found by the fault-injection suite's design
review; proven here deterministically with two threads and a provider that answers slowly (but accepts).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from inbox.models import Message, Role
from inbox.services.messages import message_send_reply
from integrations.services.outbound import outbound_send
from tests.factories import MembershipFactory, OrganizationFactory, make_channel, make_conversation
from tests.fakes.graph import FakeGraphAPI
from tests.integrations.conftest import WHATSAPP_CUSTOMER, WHATSAPP_PHONE_NUMBER_ID

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_two_concurrent_send_tasks_for_one_reply_send_it_once(settings) -> None:
    graph = FakeGraphAPI(token="once-token").start()
    settings.META_GRAPH_API_BASE = graph.base_url
    try:
        organization = OrganizationFactory()
        channel = make_channel(organization, kind="whatsapp", name="WhatsApp", account_id=WHATSAPP_PHONE_NUMBER_ID,
                               app_secret="s", access_token="once-token")
        conversation = make_conversation(channel, customer_id=WHATSAPP_CUSTOMER)
        agent = MembershipFactory(organization=organization, role=Role.ADMIN, user__password=None).user
        reply = message_send_reply(conversation=conversation, user=agent, text="Sent once, please")
        graph.delay_next(1.0, times=2)  # slow but accepting: both tasks are in flight at the same time

        barrier = threading.Barrier(2)

        def task() -> str:
            from django.db import connection

            barrier.wait()
            try:
                return outbound_send(message_id=reply.pk).status
            finally:
                connection.close()

        with ThreadPoolExecutor(2) as pool:
            outcomes = sorted(pool.map(lambda _: task(), range(2)))
        assert outcomes == ["sent", "skipped"]
        assert len(graph.sent) == 1
        assert Message.objects.get(pk=reply.pk).status == "sent"
    finally:
        graph.stop()
