"""TikTok business tokens are refreshed ahead of expiry, by one worker at a time; a refusal pauses sending."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from inbox.models import Channel
from integrations.connections.models import Connection, ConnectionAudit
from integrations.connections.services import tokens
from integrations.connections.tasks import refresh_token
from integrations.services import outbound
from tests.connections.concurrency import at_once
from tests.connections.factories import make_tiktok_connection
from tests.factories import MessageFactory, OrganizationFactory, make_conversation

pytestmark = [pytest.mark.core]


def grant_tokens(fake, connection: Connection) -> None:  # noqa: ANN001
    """Make the fake know the connection's stored tokens, as if TikTok had issued them."""
    stored = connection.channel.credential.stored_values()
    fake.access_tokens[stored["access_token"]] = connection.channel.account_id
    fake.refresh_tokens[stored["refresh_token"]] = connection.channel.account_id


@pytest.mark.django_db
def test_only_tokens_expiring_within_the_window_are_due(fakes):
    organization = OrganizationFactory()
    soon = make_tiktok_connection(organization, open_id="a", expires_in=timedelta(minutes=30))
    make_tiktok_connection(organization, open_id="b", expires_in=timedelta(hours=20))
    assert tokens.connections_due_for_refresh() == [soon.pk]


@pytest.mark.django_db
def test_refresh_rotates_both_tokens_and_moves_the_expiry(fakes):
    tiktok, _ = fakes
    connection = make_tiktok_connection(OrganizationFactory())
    grant_tokens(tiktok, connection)
    assert tokens.connections_due_for_refresh() == [connection.pk]  # what the beat task enqueues
    assert refresh_token.apply(args=[connection.pk]).get() == "refreshed"
    connection.refresh_from_db()
    stored = connection.channel.credential.stored_values()
    assert stored["access_token"] in tiktok.access_tokens and stored["refresh_token"] in tiktok.refresh_tokens
    assert stored["refresh_token"] != "tt-refresh-old"
    assert connection.access_expires_at > timezone.now() + timedelta(hours=23)
    assert connection.status == "active" and connection.last_refreshed_at is not None
    assert tokens.connection_refresh(connection_id=connection.pk).status == "not_due"
    assert tiktok.refresh_calls == 1


@pytest.mark.django_db
def test_refused_refresh_marks_reauthorization_and_pauses_sending(fakes):
    tiktok, _ = fakes  # the fake never issued "tt-refresh-old": TikTok refuses it
    connection = make_tiktok_connection(OrganizationFactory())
    outcome = tokens.connection_refresh(connection_id=connection.pk)
    assert outcome.status == "needs_reauthorization"
    connection.refresh_from_db()
    assert connection.status == "needs_reauthorization" and "refresh" in connection.last_error
    assert Channel.objects.get(pk=connection.channel_id).status == "needs_reauthorization"
    assert ConnectionAudit.objects.filter(action="refresh_failed").exists()
    message = MessageFactory(conversation=make_conversation(connection.channel), direction="outbound",
                             sender_type="agent", status="queued")
    result = outbound.outbound_send(message_id=message.pk)
    message.refresh_from_db()
    assert result.status == "failed" and "reconnect it on the Connections page" in message.error_reason


@pytest.mark.django_db
def test_network_failure_keeps_the_connection_and_is_retried_later(fakes):
    tiktok, _ = fakes
    connection = make_tiktok_connection(OrganizationFactory())
    grant_tokens(tiktok, connection)
    tiktok.fail_next(503, times=2)
    assert tokens.connection_refresh(connection_id=connection.pk).status == "retry_later"
    connection.refresh_from_db()
    assert connection.status == "active" and connection.last_error
    assert tokens.connection_refresh(connection_id=connection.pk).status == "refreshed"


@pytest.mark.django_db(transaction=True)
def test_two_workers_refreshing_at_once_call_tiktok_once(fakes):
    """The race the lock exists for: TikTok rotates refresh tokens, so a second concurrent refresh would
    present a spent token and wrongly mark the account as needing reauthorization."""
    tiktok, _ = fakes
    tiktok.refresh_delay = 0.5  # keep the first refresh in flight while the second worker arrives
    connection = make_tiktok_connection(OrganizationFactory())
    grant_tokens(tiktok, connection)
    outcomes: list[str] = []
    at_once(lambda: outcomes.append(tokens.connection_refresh(connection_id=connection.pk).status))
    assert sorted(outcomes) == ["locked", "refreshed"]
    assert tiktok.refresh_calls == 1
    connection.refresh_from_db()
    assert connection.status == "active"
    # A worker arriving after the first finished re-reads the row and finds nothing due.
    assert tokens.connection_refresh(connection_id=connection.pk).status == "not_due"
    assert tiktok.refresh_calls == 1
