"""Per-user language and time zone, the language switcher, the preferences page and locale formats (issue 10)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone, translation

from inbox import channel_rules
from inbox.models import Role
from inbox.preferences.models import UserPreference
from inbox.preferences.services import preference_get, preference_update
from tests.factories import MembershipFactory, UserFactory, make_channel, make_conversation

pytestmark = [pytest.mark.core, pytest.mark.django_db]


@pytest.fixture
def agent():
    return MembershipFactory().user


def test_login_page_speaks_the_browsers_language(client) -> None:
    page = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="th").content.decode()
    assert '<html lang="th">' in page
    assert "เข้าสู่ระบบ" in page and "Log in" not in page


def test_saved_language_beats_the_browser(client, agent) -> None:
    preference_update(user=agent, language="id")
    client.force_login(agent)
    page = client.get(reverse("inbox:index"), HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert "Kotak Masuk" in page and "Percakapan" in page and "Tampilan tersimpan" in page
    assert "Saved views" not in page


def test_language_switcher_saves_the_choice(client, agent) -> None:
    client.force_login(agent)
    response = client.post(reverse("preferences:set-language"), {"language": "vi", "next": "/inbox/"})
    assert response.status_code == 302 and response["Location"] == "/inbox/"
    assert UserPreference.objects.get(user=agent).language == "vi"
    assert "Hộp thư" in client.get(reverse("inbox:index")).content.decode()


def test_language_switcher_works_before_login(client) -> None:
    response = client.post(reverse("set_language"), {"language": "id", "next": "/login/"})
    assert response.status_code == 302
    assert "Nama pengguna" in client.get(reverse("login")).content.decode()


def test_preferences_page_saves_everything(client, agent) -> None:
    client.force_login(agent)
    assert client.get(reverse("preferences:edit")).status_code == 200
    response = client.post(
        reverse("preferences:edit"),
        {"language": "th", "time_zone": "Asia/Bangkok", "notifications": "on", "sound": ""},
        follow=True,
    )
    assert "บันทึกการตั้งค่าแล้ว" in response.content.decode()
    saved = preference_get(user=agent)
    assert (saved.language, saved.time_zone, saved.notifications, saved.sound) == ("th", "Asia/Bangkok", True, False)
    page = client.get(reverse("inbox:index")).content.decode()
    assert 'data-notifications="1"' in page and 'data-sound=""' in page


def test_preferences_page_rejects_an_unknown_zone(client, agent) -> None:
    client.force_login(agent)
    response = client.post(reverse("preferences:edit"), {"language": "", "time_zone": "Mars/Olympus"})
    assert response.status_code == 400
    assert not UserPreference.objects.filter(user=agent).exists()


def test_service_refuses_unknown_language_and_zone(agent) -> None:
    with pytest.raises(ValidationError):
        preference_update(user=agent, language="fr")
    with pytest.raises(ValidationError):
        preference_update(user=agent, time_zone="Nowhere/Land")


def test_times_follow_the_users_time_zone(client) -> None:
    agent = MembershipFactory(role=Role.ADMIN).user  # admins see every channel
    preference_update(user=agent, time_zone="Asia/Jakarta")
    channel = make_channel(agent.memberships.first().organization)
    conversation = make_conversation(channel, last_message_at=timezone.now())
    client.force_login(agent)
    page = client.get(reverse("inbox:index") + "?view=all").content.decode()
    assert f'data-conversation-id="{conversation.pk}"' in page
    assert "+07:00" in page  # list times are rendered in the agent's zone, not the server's UTC


def test_composer_reasons_are_translated(agent) -> None:
    channel = make_channel(agent.memberships.first().organization)
    conversation = make_conversation(channel)
    channel_rules.register("sandbox-test-window", channel_rules.ChannelRules(reply_window=timedelta(hours=24)))
    conversation.channel.kind = "sandbox-test-window"
    conversation.last_inbound_at = timezone.now() - timedelta(hours=30)
    with translation.override("vi"):
        state = channel_rules.composer_state(conversation)
    assert not state.can_send
    assert state.reason == "Khung thời gian trả lời 24 giờ đã đóng: hãy chờ khách hàng nhắn lại."


@pytest.mark.parametrize(
    ("language", "amount", "currency", "shown"),
    [
        ("en", "150000", "IDR", "IDR\u00a0150,000"),
        ("id", "150000", "IDR", "IDR\u00a0150.000"),
        ("vi", "250000", "VND", "VND\u00a0250.000"),
        ("th", "1234.5", "THB", "THB\u00a01,234.50"),
        ("en", "12", "USD", "USD\u00a012.00"),
        ("id", "12.5", "USD", "USD\u00a012,50"),
    ],
)
def test_money_uses_minor_units_and_locale_separators(language, amount, currency, shown) -> None:
    template = Template("{% load l10n_money %}{{ amount|money:currency }}")
    with translation.override(language):
        assert template.render(Context({"amount": Decimal(amount), "currency": currency})) == shown


def test_anonymous_users_get_defaults() -> None:
    from django.contrib.auth.models import AnonymousUser

    assert preference_get(user=AnonymousUser()).sound is True
    assert UserFactory.build().pk is None
