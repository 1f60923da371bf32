"""The fake's Events API (POST /open_api/v1.3/event/track/): the signals app's tests rely on it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.fakes.tiktok import EVENT_TRACK_PATH, FakeTikTokAPI

from .conftest import ACCESS_TOKEN


def batch(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event_source": "crm",
        "event_source_id": "ES-MESSAGES-1",
        "partner_name": "Switchboard",
        "test_event_code": "TEST123",
        "data": [
            {"event": "Contact", "event_time": 1763900000, "event_id": "conv-1:contact",
             "user": {"ttclid": "E.C.P.abc"}, "properties": {"flags": ["price"]}},
            {"event": "QualifiedLead", "event_time": 1763900100, "event_id": "conv-1:lead"},
        ],
    }
    body.update(overrides)
    return body


def track(fake: FakeTikTokAPI, body: Any, token: str | None = ACCESS_TOKEN) -> dict[str, Any]:
    headers = {"Access-Token": token} if token is not None else {}
    response = httpx.post(fake.base_url + EVENT_TRACK_PATH, json=body, headers=headers, timeout=2)
    assert response.status_code == 200  # TikTok answers errors in the envelope, not the HTTP status
    return response.json()


def test_valid_batch_is_accepted_and_recorded(fake_tiktok: FakeTikTokAPI):
    answer = track(fake_tiktok, batch())

    assert answer["code"] == 0
    assert answer["request_id"]
    assert [(e["event"], e["event_id"], e["event_source_id"]) for e in fake_tiktok.events] == [
        ("Contact", "conv-1:contact", "ES-MESSAGES-1"),
        ("QualifiedLead", "conv-1:lead", "ES-MESSAGES-1"),
    ]
    assert fake_tiktok.events[0]["user"] == {"ttclid": "E.C.P.abc"}
    assert fake_tiktok.events[0]["test_event_code"] == "TEST123"
    assert fake_tiktok.requests[0].headers["access-token"] == ACCESS_TOKEN


def test_repeats_are_recorded_so_duplicates_can_be_counted(fake_tiktok: FakeTikTokAPI):
    track(fake_tiktok, batch())
    track(fake_tiktok, batch(data=batch()["data"][:1]))

    assert fake_tiktok.event_ids()[("Contact", "conv-1:contact")] == 2
    assert fake_tiktok.event_ids()[("QualifiedLead", "conv-1:lead")] == 1


@pytest.mark.parametrize("token", [None, "", "wrong-token"])
def test_missing_or_wrong_access_token_is_refused(fake_tiktok: FakeTikTokAPI, token: str | None):
    answer = track(fake_tiktok, batch(), token=token)

    assert answer["code"] == 40105
    assert "Access token" in answer["message"]
    assert fake_tiktok.events == []


def test_events_can_use_their_own_token(fake_tiktok: FakeTikTokAPI):
    fake_tiktok.events_tokens = {"event-set-token"}

    assert track(fake_tiktok, batch())["code"] == 40105
    assert track(fake_tiktok, batch(), token="event-set-token")["code"] == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([1, 2], "body"),
        (batch(event_source=""), "event_source"),
        (batch(event_source_id=None), "event_source_id"),
        (batch(data=[]), "data"),
        (batch(data="Contact"), "data"),
        (batch(test_event_code=5), "test_event_code"),
        (batch(data=["Contact"]), "data[0]"),
        (batch(data=[{"event_time": 1763900000, "event_id": "x"}]), "data[0].event"),
        (batch(data=[{"event": "Contact", "event_time": 1763900000}]), "data[0].event_id"),
        (batch(data=[{"event": "Contact", "event_id": "x", "event_time": "1763900000"}]), "data[0].event_time"),
        (batch(data=[{"event": "Contact", "event_id": "x", "event_time": 1763900000123}]), "not milliseconds"),
        (batch(data=[{"event": "Contact", "event_id": "x", "event_time": 1763900000, "user": "a@b.c"}]),
         "data[0].user"),
    ],
)
def test_malformed_body_is_refused_naming_the_field(fake_tiktok: FakeTikTokAPI, body: Any, field: str):
    answer = track(fake_tiktok, body)

    assert answer["code"] == 40002
    assert field in answer["message"]
    assert fake_tiktok.events == []


def test_a_bad_event_rejects_the_whole_batch(fake_tiktok: FakeTikTokAPI):
    good, _ = batch()["data"]
    answer = track(fake_tiktok, batch(data=[good, {"event": "Contact", "event_id": "y"}]))

    assert answer["code"] == 40002
    assert "data[1].event_time" in answer["message"]
    assert fake_tiktok.events == []


def test_throttling_is_scriptable(fake_tiktok: FakeTikTokAPI):
    fake_tiktok.throttle_next(times=2)

    assert [track(fake_tiktok, batch())["code"] for _ in range(3)] == [40100, 40100, 0]
    assert len(fake_tiktok.events) == 2
