from __future__ import annotations

import pytest
from django.db import transaction

from inbox import events

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.core]


def test_after_commit_subscribers_never_see_a_rolled_back_change():
    seen: list[str] = []

    def handler(event):
        seen.append(event.name)

    events.subscribe("channel.connected", handler, phase=events.AFTER_COMMIT)
    try:
        with pytest.raises(RuntimeError), transaction.atomic():
            events.publish("channel.connected", organization_id=1, channel_id=1)
            raise RuntimeError("rollback")
        assert seen == []
        with transaction.atomic():
            events.publish("channel.connected", organization_id=1, channel_id=1)
            assert seen == []
        assert seen == ["channel.connected"]
    finally:
        events.unsubscribe(handler)


def test_unknown_events_and_unserializable_payloads_fail_at_once():
    with pytest.raises(ValueError, match="unknown event"):
        events.publish("message.exploded", organization_id=1)
    with pytest.raises(TypeError):
        events.publish("channel.connected", organization_id=1, channel=object())
    with pytest.raises(ValueError, match="no known event"):
        events.subscribe("nothing.*", lambda e: None, phase=events.AFTER_COMMIT)
