"""The privacy promise, property-based: no message text reaches TikTok.

For many random messages (any script, emoji, numbers, curated keywords and tracking tokens embedded), received
through ``message_receive_inbound`` on a sandbox channel and delivered to the fake Events API on loopback, every
request body the fake received is checked in two ways:

1. Schema: every JSON key is one the payload builder writes, and every value is one we can account for
   without the message: configured names, deterministic event ids, the hashed customer id, flag names of the
   curated list, the event time, the ttclid found by an extractor.
2. Raw text: those accounted-for values are removed from the decoded body, and no 4-character substring of the
   message (as written, or normalized) that contains a letter or digit and is not part of a curated keyword may
   appear in what is left. The one designed exception is the tracking ID an extractor took from the message
   (``ttclid=...``), which TikTok needs: it is accounted for in step 1.
"""

from __future__ import annotations

import itertools
import json
import os
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inbox.models import Conversation
from signals.client import EventsAPIClient
from signals.models import SignalEvent
from signals.payloads import sha256_hex
from signals.services import delivery
from signals.text import normalize
from switchboard.http import RetryPolicy
from tests.fakes.tiktok import FakeTikTokAPI
from tests.signals.conftest import CURATED, Shop, make_shop

pytestmark = [pytest.mark.core, pytest.mark.django_db]

EXAMPLES = int(os.environ.get("PRIVACY_EXAMPLES", "400"))
KEYWORDS = [phrase for phrase, _ in CURATED] + ["thanh toán", "ชำระเงิน"]
FLAGS = {flag for _, flag in CURATED} | {"payment"}
ALLOWED_KEYS = {
    "event_source",
    "event_source_id",
    "partner_name",
    "test_event_code",
    "data",
    "event",
    "event_time",
    "event_id",
    "user",
    "external_id",
    "ttclid",
    "properties",
    "flags",
    "content_type",
    "value",
    "currency",
}
_counter = itertools.count(1)

# NUL is left out: PostgreSQL text cannot hold it, and inbox stores the message before signals sees it.
any_text = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=12)
words = st.one_of(
    any_text,
    st.text(alphabet=st.characters(codec="utf-8", categories=["L", "N"]), min_size=4, max_size=12),
    st.sampled_from(
        KEYWORDS + ["PAYMENT", "Páyment", "ｐａｙｍｅｎｔ", "ราคาเท่าไหร่", "😀🙏", "12345678", "080-1234-5678"]
    ),
    st.from_regex(r"ttclid=[a-z0-9]{8,20}", fullmatch=True),
    st.from_regex(r"#TT-[a-z0-9]{6,10}", fullmatch=True),
)
messages = st.lists(words, min_size=1, max_size=8).map(" ".join)


def _allowed_fragment(gram: str) -> bool:
    """Part of a curated keyword or flag name (as written or normalized): allowed to travel."""
    return any(gram in k or gram in normalize(k) for k in [*KEYWORDS, *FLAGS])


def _grams(text: str) -> set[str]:
    grams = set()
    for source in (text, normalize(text)):
        for i in range(len(source) - 3):
            gram = source[i : i + 4]
            if any(c.isalnum() for c in gram) and not _allowed_fragment(gram):
                grams.add(gram)
    return grams


def _accounted_values(body: dict, shop: Shop, conversation: Conversation) -> list[str]:
    """Check the schema; return every value string we can explain without the message."""
    assert set(body) <= ALLOWED_KEYS
    assert body["event_source"] == shop.account.event_source and body["event_source_id"] == "ES-1"
    assert body["partner_name"] == "Switchboard" and body["test_event_code"] == "TEST42"
    values = [body["event_source"], body["event_source_id"], body["partner_name"], body["test_event_code"]]
    ids = set(SignalEvent.objects.filter(conversation=conversation).values_list("event_id", flat=True))
    for item in body["data"]:
        assert set(item) <= ALLOWED_KEYS and set(item["user"]) <= {"external_id", "ttclid"}
        assert item["event"] in {"Contact", "QualifiedLead"}
        assert item["event_id"] in ids and re.fullmatch(r"[0-9a-f]{32}", item["event_id"])
        assert item["user"]["external_id"] == sha256_hex(conversation.identity.external_id)
        if "ttclid" in item["user"]:
            assert item["user"]["ttclid"] == conversation.tracking_id  # the extractor's find, by design
            values.append(item["user"]["ttclid"])
        properties = item.get("properties", {})
        assert set(properties) <= {"flags", "content_type"}
        assert set(properties.get("flags", [])) <= FLAGS
        assert properties.get("content_type", "conversation") == "conversation"
        values += [
            item["event"],
            item["event_id"],
            str(item["event_time"]),
            *item["user"].values(),
            *properties.get("flags", []),
            properties.get("content_type", ""),
        ]
    return values + sorted(ALLOWED_KEYS)


@pytest.fixture
def privacy_shop(db, fake_tiktok: FakeTikTokAPI) -> Shop:
    return make_shop(base_keywords=[*CURATED, ("thanh toán", "payment"), ("ชำระเงิน", "payment")])


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(texts=st.lists(messages, min_size=1, max_size=3))
def test_no_message_text_reaches_tiktok(privacy_shop: Shop, fake_tiktok: FakeTikTokAPI, texts: list[str]):
    shop = privacy_shop
    customer = f"privacy-{next(_counter)}"
    for text in texts:
        shop.receive(text, customer=customer)
    conversation = Conversation.objects.select_related("identity").get(identity__external_id=customer)
    before = len(fake_tiktok.requests)
    with EventsAPIClient(fake_tiktok.base_url, retry=RetryPolicy(attempts=1)) as client:
        delivery.signals_deliver_pending(client=client, time_budget=10)
    grams = set().union(*(_grams(text) for text in texts))
    for request in fake_tiktok.requests[before:]:
        raw = request.body.decode("utf-8")
        body = json.loads(raw)
        residue = raw + "\n" + json.dumps(body, ensure_ascii=True) + "\n" + json.dumps(body, ensure_ascii=False)
        for value in sorted(set(_accounted_values(body, shop, conversation)), key=len, reverse=True):
            if value:
                residue = residue.replace(value, "\x00")
        leaked = {gram for gram in grams if gram in residue}
        assert not leaked, f"message text reached TikTok: {leaked!r} in {raw}"
    assert SignalEvent.objects.filter(conversation=conversation).exclude(status="delivered").count() == 0
