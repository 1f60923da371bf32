"""No secret, token or message text in any log line.

Secrets are planted (a channel's app secret, verify token and access token, an advertiser's Events API token, a
marker in the customer's and the agent's texts), then a whole run goes through the code that logs: the GET
handshake (right and wrong token), signed and mis-signed webhooks, processing (including a delivery that fails
to apply), replies sent through provider faults (503 retried, an invalid-token refusal) and a signals delivery
that is throttled first. Every record of every logger is captured at DEBUG, formatted with its ``extra`` fields
and traceback, and searched.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from inbox.models import Conversation, Role
from inbox.services.messages import message_send_reply
from integrations.meta import webhooks as meta_webhooks
from integrations.models import InboundWebhook
from integrations.services.outbound import outbound_send
from integrations.services.webhooks import webhook_process
from signals.models import MessageEventRule, SignalEvent
from signals.services import accounts, keywords
from signals.services.delivery import signals_deliver_pending
from switchboard.observability import JsonFormatter
from tests.factories import MembershipFactory, OrganizationFactory, make_channel
from tests.fakes.graph import FakeGraphAPI
from tests.fakes.tiktok import FakeTikTokAPI
from tests.integrations.conftest import KITS

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.core]

APP_SECRET = "PLANTED-app-secret-4f1c9e"
VERIFY_TOKEN = "PLANTED-verify-token-77aa"
ACCESS_TOKEN = "PLANTED-access-token-b3d2"
EVENTS_TOKEN = "PLANTED-events-token-0c6e"
MARKER = "PLANTEDTEXT9q8w"
SECRETS = (APP_SECRET, VERIFY_TOKEN, ACCESS_TOKEN, EVENTS_TOKEN, MARKER)


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []
        self.formatter_ = JsonFormatter()

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.formatter_.format(record) + " " + repr(record.args))


@pytest.fixture
def captured() -> Iterator[Capture]:
    """Every logger at DEBUG, all records to one handler; levels restored afterwards."""
    handler = Capture()
    loggers = [logging.getLogger()] + [
        logger for logger in logging.root.manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    saved = [(logger, logger.level, logger.disabled) for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        logger.disabled = False
    logging.getLogger().addHandler(handler)
    try:
        yield handler
    finally:
        logging.getLogger().removeHandler(handler)
        for logger, level, disabled in saved:
            logger.setLevel(level)
            logger.disabled = disabled


def test_no_planted_secret_or_text_reaches_any_log_line(client, settings, captured):
    graph = FakeGraphAPI(token=ACCESS_TOKEN).start()
    tiktok = FakeTikTokAPI(tokens=[EVENTS_TOKEN]).start()
    settings.META_GRAPH_API_BASE = graph.base_url
    settings.TIKTOK_API_BASE = tiktok.base_url
    try:
        kit = KITS["whatsapp"]
        organization = OrganizationFactory()
        channel = make_channel(organization, kind="whatsapp", name="WhatsApp", account_id=kit.account_id,
                               app_secret=APP_SECRET, verify_token=VERIFY_TOKEN, access_token=ACCESS_TOKEN)
        keyword_list = keywords.keyword_list_create(organization=organization, name="List", tiktok_provided=True)
        keywords.keyword_add(keyword_list=keyword_list, phrase="payment", flag="payment")
        account = accounts.advertiser_connect(organization=organization, name="Ads", event_set_id="ES-1",
                                              access_token=EVENTS_TOKEN)
        accounts.event_rule_create(organization=organization, trigger=MessageEventRule.Trigger.KEYWORD_FLAG,
                                   flag="payment", event_name="QualifiedLead", advertiser_account=account)
        agent = MembershipFactory(organization=organization, role=Role.ADMIN, user__password=None).user
        url = f"/webhooks/whatsapp/{channel.pk}/"

        # The handshake, right and wrong.
        query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "c"}
        assert client.get(url, query).status_code == 200
        assert client.get(url, {**query, "hub.verify_token": VERIFY_TOKEN + "x"}).status_code == 403

        # Webhooks: signed, mis-signed, and one that is signed but cannot be applied.
        body = kit.inbound(external_id="wamid.secret-1", text=f"{MARKER} about the payment")
        signature = meta_webhooks.sign(body, APP_SECRET)
        assert client.post(url, body, content_type="application/json",
                           HTTP_X_HUB_SIGNATURE_256=signature).status_code == 200
        assert client.post(url, body + b" ", content_type="application/json",
                           HTTP_X_HUB_SIGNATURE_256=signature).status_code == 403
        broken = body.replace(b'"type": "text"', b'"type": 42')
        assert client.post(url, broken, content_type="application/json",
                           HTTP_X_HUB_SIGNATURE_256=meta_webhooks.sign(broken, APP_SECRET)).status_code == 200
        for webhook in InboundWebhook.objects.all():
            webhook_process(webhook_id=webhook.pk)
        conversation = Conversation.objects.get()

        # Replies: one through a 503 (retried by the client), one refused for an invalid token.
        graph.fail_next(503)
        first = message_send_reply(conversation=conversation, user=agent, text=f"{MARKER} reply one")
        outbound_send(message_id=first.pk)  # embedded mode already sent it on commit: then this is a no-op
        first.refresh_from_db()
        assert first.status == "sent"
        graph.fail_with_graph_error(190, status=401)
        second = message_send_reply(conversation=conversation, user=agent, text=f"{MARKER} reply two")
        outbound_send(message_id=second.pk)
        second.refresh_from_db()
        assert second.status == "failed"

        # Signals: throttled once, then delivered.
        tiktok.throttle_next()
        signals_deliver_pending(time_budget=2)
        SignalEvent.objects.update(next_attempt_at=SignalEvent.objects.get().created_at)
        signals_deliver_pending(time_budget=2)
        assert SignalEvent.objects.get().status == "delivered"
        assert len(tiktok.events) == 1
    finally:
        graph.stop()
        tiktok.stop()

    assert len(captured.lines) > 10  # the capture really saw the run
    leaks = [(secret, line) for line in captured.lines for secret in SECRETS if secret in line]
    assert not leaks, "\n".join(f"{secret}: {line[:300]}" for secret, line in leaks)
