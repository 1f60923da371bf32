"""Stored deliveries for admins: status, reasons, notes, the failed filter, replay and the rejection counts."""

from __future__ import annotations

import pytest
from django.utils import timezone

from inbox.models import Message
from integrations.models import InboundWebhook
from integrations.sandbox.adapter import message_body
from tests.factories import OrganizationFactory, UserFactory, make_channel
from tests.integrations.factories import InboundWebhookFactory, WebhookRejectionFactory, admin_of

pytestmark = [pytest.mark.django_db, pytest.mark.core]


@pytest.fixture
def org():
    return OrganizationFactory()


@pytest.fixture
def channel(org):
    return make_channel(org)


@pytest.fixture
def admin_client(client, org):
    client.force_login(admin_of(org))
    return client


def sandbox_body(channel, external_id="m1"):
    return message_body(
        account_id=channel.account_id,
        events=[
            {
                "type": "message",
                "id": external_id,
                "customer": {"id": "c1", "name": "Ana"},
                "text": "Hello",
                "timestamp": timezone.now().timestamp(),
            }
        ],
    )


def test_the_page_lists_deliveries_with_status_reason_and_notes(admin_client, channel):
    InboundWebhookFactory(channel=channel, status="failed", error="cannot parse: no events")
    InboundWebhookFactory(channel=channel, notes=[{"ignored": "message_template_status_update", "account_id": ""}])

    html = admin_client.get("/channels/webhooks/").content.decode()

    assert "cannot parse: no events" in html and "Failed" in html
    assert "Ignored: message_template_status_update" in html
    assert html.count("Replay</button>") == 1  # only the failed one


def test_failed_only_filter(admin_client, channel):
    InboundWebhookFactory(channel=channel, status="failed", error="broken delivery")
    InboundWebhookFactory(channel=channel, status="processed", error="", notes=[{"ignored": "fine one"}])
    html = admin_client.get("/channels/webhooks/?status=failed").content.decode()
    assert "broken delivery" in html and "fine one" not in html


def test_replay_processes_a_failed_delivery(admin_client, channel):
    body = sandbox_body(channel)
    webhook = InboundWebhookFactory(channel=channel, body=body, status="failed", error="processing error: db down")

    page = admin_client.post(f"/channels/webhooks/{webhook.pk}/replay/", follow=True).content.decode()

    webhook.refresh_from_db()
    assert webhook.status == InboundWebhook.Status.PROCESSED
    assert Message.objects.get().body == "Hello"
    assert f"Delivery {webhook.pk} processed." in page


def test_other_organizations_deliveries_are_invisible_and_not_replayable(admin_client):
    theirs = make_channel(OrganizationFactory(), name="Theirs")
    webhook = InboundWebhookFactory(channel=theirs, status="failed", error="their secret problem")
    assert "their secret problem" not in admin_client.get("/channels/webhooks/").content.decode()
    assert admin_client.post(f"/channels/webhooks/{webhook.pk}/replay/").status_code == 404


def test_app_level_deliveries_show_to_the_admins_of_the_channels_they_were_routed_to(admin_client, channel):
    other = make_channel(OrganizationFactory(), name="Other shop")
    notes = [
        {"ignored": "unsupported event for us", "account_id": channel.account_id},
        {"ignored": "unsupported event for them", "account_id": other.account_id},
    ]
    routed = InboundWebhookFactory(provider="sandbox", channel=None, notes=notes)
    routed.routed_channels.add(channel, other)
    InboundWebhookFactory(provider="sandbox", channel=None, status="failed", error="unroutable delivery")

    html = admin_client.get("/channels/webhooks/").content.decode()

    assert "unsupported event for us" in html and "unsupported event for them" not in html
    assert "1 note about other accounts not shown" in html
    assert "unroutable delivery" not in html  # belongs to no organization: superusers only


def test_superusers_see_unroutable_app_level_deliveries(client):
    client.force_login(UserFactory(password=None, is_superuser=True, is_staff=True))
    notes = [{"unknown_account": "acct-404", "reason": "no channel for this account"}]
    InboundWebhookFactory(provider="sandbox", channel=None, notes=notes)
    html = client.get("/channels/webhooks/").content.decode()
    assert "Unknown account <code>acct-404</code>" in html


def test_an_app_level_delivery_records_the_channels_it_was_routed_to(channel):
    from integrations.services.webhooks import webhook_process

    webhook = InboundWebhookFactory(provider="sandbox", channel=None, body=sandbox_body(channel), status="received")
    webhook_process(webhook_id=webhook.pk)
    assert list(webhook.routed_channels.all()) == [channel]


def test_rejection_counts_per_provider_channel_reason_and_day(admin_client, channel):
    WebhookRejectionFactory(channel=channel, reason="sandbox signature mismatch", count=5)
    WebhookRejectionFactory(channel=make_channel(OrganizationFactory()), reason="someone else's rejection")

    html = admin_client.get("/channels/webhooks/").content.decode()

    assert "sandbox signature mismatch" in html and "<td>5</td>" in html
    assert "someone else&#x27;s rejection" not in html and "someone else's rejection" not in html


def test_empty_states(admin_client, channel):
    html = admin_client.get("/channels/webhooks/").content.decode()
    assert "No deliveries yet" in html and "No rejected deliveries" in html
