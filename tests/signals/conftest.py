"""Fixtures for the signals app: an organization with a sandbox channel, curated keywords, event rules, and a
fake TikTok Events API on loopback."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import pytest
from django.utils import timezone

from inbox.models import Channel, Organization
from inbox.services.messages import ReceiveResult, message_receive_inbound
from signals.models import AdvertiserAccount, KeywordList, MessageEventRule, SignalEvent
from signals.services import accounts, keywords
from tests.factories import OrganizationFactory, make_channel
from tests.fakes.tiktok import FakeTikTokAPI

ACCESS_TOKEN = "signals-test-token"
_ids = itertools.count(1)


@dataclass
class Shop:
    organization: Organization
    channel: Channel
    keyword_list: KeywordList
    account: AdvertiserAccount

    def receive(
        self, text: str, *, customer: str = "cust-1", referral: dict | None = None, at: datetime | None = None
    ) -> ReceiveResult:
        return message_receive_inbound(
            channel=self.channel,
            customer_id=customer,
            external_id=f"m-{next(_ids)}",
            sent_at=at or timezone.now(),
            text=text,
            referral=referral,
        )


CURATED = (
    ("payment", "payment"),
    ("bank transfer", "payment"),
    ("pembayaran", "payment"),
    ("price", "price"),
    ("ราคา", "price"),
    ("cash on delivery", "cod"),
)


def make_shop(*, sandbox: bool = False, rules: bool = True, base_keywords=CURATED) -> Shop:
    organization = OrganizationFactory()
    channel = make_channel(organization)
    keyword_list = keywords.keyword_list_create(organization=organization, name="TikTok list", tiktok_provided=True)
    for phrase, flag in base_keywords:
        keywords.keyword_add(keyword_list=keyword_list, phrase=phrase, flag=flag)
    account = accounts.advertiser_connect(
        organization=organization,
        name="Ads",
        event_set_id="ES-1",
        access_token="" if sandbox else ACCESS_TOKEN,
        test_event_code="TEST42",
        is_sandbox=sandbox,
    )
    if rules:
        accounts.event_rule_create(
            organization=organization,
            trigger=MessageEventRule.Trigger.CONVERSATION_STARTED_FROM_AD,
            event_name="Contact",
            advertiser_account=account,
        )
        accounts.event_rule_create(
            organization=organization,
            trigger=MessageEventRule.Trigger.KEYWORD_FLAG,
            flag="payment",
            event_name="QualifiedLead",
            advertiser_account=account,
        )
    return Shop(organization, channel, keyword_list, account)


def make_outbox_rows(
    shop: Shop,
    count: int,
    *,
    status: str = "pending",
    event_time: datetime | None = None,
    event_ids: list[str] | None = None,
) -> list[str]:
    """``count`` QualifiedLead rows of the shop's account in ``status``, as the subscribers write them (hashed
    external id, flags); their event ids. Delivered rows carry a delivery time."""
    now = timezone.now()
    event_ids = event_ids or [uuid.uuid4().hex for _ in range(count)]
    SignalEvent.objects.bulk_create(
        SignalEvent(
            organization=shop.organization,
            advertiser_account=shop.account,
            trigger="keyword_flag",
            event_name="QualifiedLead",
            event_id=event_id,
            event_time=event_time or now,
            next_attempt_at=now,
            status=status,
            delivered_at=now if status == "delivered" else None,
            flags=["payment"],
            user_ids={"external_id": uuid.uuid4().hex * 2},
        )
        for event_id in event_ids
    )
    return event_ids


@pytest.fixture
def shop(db) -> Shop:
    return make_shop()


@pytest.fixture(scope="module")
def _events_server() -> Iterator[FakeTikTokAPI]:
    fake = FakeTikTokAPI(tokens=[ACCESS_TOKEN])
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def fake_tiktok(_events_server: FakeTikTokAPI, settings) -> FakeTikTokAPI:
    """The module's fake, emptied; TIKTOK_API_BASE points at it."""
    fake = _events_server
    fake.reset()
    fake.tokens = {ACCESS_TOKEN}
    fake.events_tokens = fake.tokens
    settings.TIKTOK_API_BASE = fake.base_url
    return fake
