"""Where the agent types: the reply window's closing time is on the page for static/composer_window.js."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import OrganizationFactory, make_channel, make_conversation
from tests.integrations.factories import admin_of

pytestmark = [pytest.mark.django_db, pytest.mark.core]


def test_the_composer_shows_when_the_whatsapp_window_closes(client):
    org = OrganizationFactory()
    channel = make_channel(org, kind="whatsapp", name="WA", account_id="1065")
    conversation = make_conversation(channel, last_inbound_at=timezone.now() - timedelta(hours=20))
    client.force_login(admin_of(org))

    html = client.get(f"/inbox/c/{conversation.pk}/").content.decode()

    closes = (conversation.last_inbound_at + timedelta(hours=24)).isoformat()
    assert f'class="composer-window" data-closes-at="{closes}"' in html
    assert "Reply window closes at" in html and "composer_window.js" in html


def test_no_window_line_on_a_channel_without_a_window(client):
    org = OrganizationFactory()
    conversation = make_conversation(make_channel(org))
    client.force_login(admin_of(org))
    assert "composer-window" not in client.get(f"/inbox/c/{conversation.pk}/").content.decode()
