"""The signal outbox: what the in-transaction subscribers write when a message arrives or an order is paid.

Every function here runs inside the transaction that stored the change (see :mod:`inbox.events`), so a
:class:`~signals.models.SignalEvent` row commits with its message or not at all. Message text is read only to
match it (tracking-ID extractors, the keyword automaton) and is never stored, logged or passed on.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from inbox.models import Conversation, Message
from inbox.services.conversations import conversation_set_attribution
from signals.extract import TrackingMatch, extract_tracking
from signals.models import AdvertiserAccount, ConversationFlag, MessageEventRule, SignalEvent
from signals.payloads import safe_properties, sha256_hex
from signals.services.extractors import organization_extractors
from signals.services.keywords import organization_matcher

logger = logging.getLogger(__name__)

Trigger = MessageEventRule.Trigger


def tracking_messages() -> int:
    """How many first inbound messages of a conversation tracking-ID patterns read (setting, default 3)."""
    return int(getattr(settings, "SIGNALS_TRACKING_MESSAGES", 3))


def event_id_for(*, organization_id: int, conversation_id: int | None, trigger: str, key: str, rule_key: str) -> str:
    """Deterministic: the same happening always gets the same id, so retries and replays deduplicate."""
    raw = f"{organization_id}:{conversation_id}:{trigger}:{key}:{rule_key}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def _is_ttclid(match: TrackingMatch, referral: Mapping[str, Any] | None) -> bool:
    """A TikTok click id is sent as ``user.ttclid``; a Meta click id (``ctwa_clid``) or an ad id is not."""
    if "ttclid" in match.extractor:
        return True
    if match.source == "referral" and match.extractor.endswith("click_id"):
        source = str((referral or {}).get("source", ""))
        return source.startswith("tiktok") or source.startswith("sandbox")
    return False


def _rules(organization_id: int, trigger: str) -> list[MessageEventRule]:
    return list(
        MessageEventRule.objects.filter(
            organization_id=organization_id,
            trigger=trigger,
            enabled=True,
            advertiser_account__status=AdvertiserAccount.Status.CONNECTED,
        )
    )


def _write(
    *,
    organization_id: int,
    conversation: Mapping[str, Any] | None,
    trigger: str,
    key: str,
    rules: Iterable[MessageEventRule],
    flags: Iterable[str] = (),
    properties: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> int:
    """Outbox rows for ``rules``; idempotent on the deterministic event id. Returns the rows written."""
    conversation = conversation or {}
    conversation_id = conversation.get("id")
    identity = conversation.get("identity_external_id") or ""
    flags = sorted(set(flags))
    rows = [
        SignalEvent(
            organization_id=organization_id,
            advertiser_account_id=rule.advertiser_account_id,
            conversation_id=conversation_id,
            trigger=trigger,
            event_name=rule.event_name,
            event_id=event_id_for(
                organization_id=organization_id,
                conversation_id=conversation_id,
                trigger=trigger,
                key=key,
                rule_key=f"{rule.event_name}:{rule.advertiser_account_id}",
            ),
            event_time=at or timezone.now(),
            tracking_id=str(conversation.get("tracking_id") or "")[:191],
            ttclid=str(conversation.get("ttclid") or "")[:191],
            flags=flags,
            properties=safe_properties(properties or {}),
            user_ids={"external_id": sha256_hex(identity)} if identity else {},
        )
        for rule in rules
    ]
    if not rows:
        return 0
    before = SignalEvent.objects.filter(event_id__in=[r.event_id for r in rows]).count()
    SignalEvent.objects.bulk_create(rows, ignore_conflicts=True)
    written = len(rows) - before
    if written:
        schedule_delivery()
    return written


def _conversation_facts(conversation_id: int) -> dict[str, Any] | None:
    return (
        Conversation.objects.filter(pk=conversation_id)
        .values("id", "referral", "attributed_at", "tracking_id", "identity__external_id")
        .first()
    )


def _ttclid_of(conversation_id: int) -> str:
    return (
        SignalEvent.objects.filter(conversation_id=conversation_id)
        .exclude(ttclid="")
        .values_list("ttclid", flat=True)
        .first()
        or ""
    )


def conversation_attribute(*, organization_id: int, conversation_id: int, message_id: int | None) -> int:
    """Find the conversation's tracking ID (referral first, then patterns over its first inbound messages) and
    attribute it; the first attribution wins for good. On a new attribution, writes the events of the
    "conversation started from an ad" rules. Returns the outbox rows written."""
    facts = _conversation_facts(conversation_id)
    if facts is None or facts["attributed_at"] is not None:
        return 0
    referral = facts["referral"] if isinstance(facts["referral"], dict) else None
    texts: list[str] = []
    if message_id is not None:
        first = list(
            Message.objects.filter(conversation_id=conversation_id, direction=Message.Direction.INBOUND)
            .order_by("id")
            .values_list("id", "body")[: tracking_messages()]
        )
        if message_id not in {pk for pk, _ in first} and not referral:
            return 0  # past the first messages: patterns no longer look
        texts = [body for _, body in first]
    if not referral and not texts:
        return 0
    match = extract_tracking(referral, texts, organization_extractors(organization_id))
    del texts
    if match is None:
        return 0
    if not conversation_set_attribution(
        conversation_id=conversation_id, tracking_id=match.tracking_id, ad_id=match.ad_id, campaign_id=match.campaign_id
    ):
        return 0
    conversation = {
        "id": conversation_id,
        "tracking_id": match.tracking_id,
        "ttclid": match.tracking_id if _is_ttclid(match, referral) else "",
        "identity_external_id": facts["identity__external_id"],
    }
    return _write(
        organization_id=organization_id,
        conversation=conversation,
        trigger=Trigger.CONVERSATION_STARTED_FROM_AD,
        key="start",
        rules=_rules(organization_id, Trigger.CONVERSATION_STARTED_FROM_AD),
        properties={"content_type": "conversation"},
    )


def conversation_raise_flags(*, organization_id: int, conversation_id: int, text: str) -> int:
    """Match ``text`` against the organization's curated keywords; each flag is raised once per conversation
    (attributed or not) and writes the events of the matching "keyword flag" rules. Returns the rows written.

    The conversation row is locked by the transaction that stored the message, so the check-then-insert of
    flags cannot race with another message of the same conversation."""
    if not text:
        return 0
    found = organization_matcher(organization_id).matches(text)
    if not found:
        return 0
    existing = set(
        ConversationFlag.objects.filter(conversation_id=conversation_id, flag__in=found).values_list("flag", flat=True)
    )
    new = sorted(found - existing)
    if not new:
        return 0
    ConversationFlag.objects.bulk_create(
        [ConversationFlag(conversation_id=conversation_id, flag=flag) for flag in new], ignore_conflicts=True
    )
    rules = _rules(organization_id, Trigger.KEYWORD_FLAG)
    if not rules:
        return 0
    conversation = _conversation_for_events(conversation_id)
    written = 0
    for flag in new:
        matching = [rule for rule in rules if rule.flag in ("", flag)]
        written += _write(
            organization_id=organization_id,
            conversation=conversation,
            trigger=Trigger.KEYWORD_FLAG,
            key=flag,
            rules=matching,
            flags=[flag],
        )
    return written


def _conversation_for_events(conversation_id: int) -> dict[str, Any]:
    """What the events of a conversation-level rule are written from: attribution and the customer's identity."""
    facts = _conversation_facts(conversation_id) or {}
    return {
        "id": conversation_id,
        "tracking_id": facts.get("tracking_id", ""),
        "ttclid": _ttclid_of(conversation_id) if facts.get("tracking_id") else "",
        "identity_external_id": facts.get("identity__external_id", ""),
    }


def conversation_labels_applied(*, organization_id: int, conversation_id: int, label_names: Iterable[str]) -> int:
    """Events of the "label applied" rules for labels the conversation carries; once per conversation and label
    (the deterministic event id makes a label applied again, or seen again on a later update, a no-op)."""
    names = sorted({name for name in label_names if name})
    if not names:
        return 0
    rules = _rules(organization_id, Trigger.LABEL_APPLIED)
    if not rules:
        return 0
    conversation = _conversation_for_events(conversation_id)
    written = 0
    for name in names:
        matching = [rule for rule in rules if rule.flag in ("", name)]
        written += _write(
            organization_id=organization_id,
            conversation=conversation,
            trigger=Trigger.LABEL_APPLIED,
            key=f"label:{name}",
            rules=matching,
        )
    return written


def commerce_event_record(*, organization_id: int, trigger: str, payload: Mapping[str, Any]) -> int:
    """``order.paid`` / ``reservation.confirmed``: accepts ``conversation_id``, ``value``, ``currency`` and an
    ``order_id``/``reservation_id`` (top level or inside ``order``/``reservation``) when present."""
    nested = payload.get("order") or payload.get("reservation") or {}
    nested = nested if isinstance(nested, Mapping) else {}

    def pick(key: str) -> Any:
        return payload.get(key, nested.get(key))

    conversation_id = pick("conversation_id")
    key = str(pick("order_id") or pick("reservation_id") or nested.get("id") or "")
    if not conversation_id and not key:
        return 0
    rules = _rules(organization_id, trigger)
    if not rules:
        return 0
    facts = _conversation_facts(int(conversation_id)) if conversation_id else None
    conversation = None
    if facts is not None:
        conversation = {
            "id": facts["id"],
            "tracking_id": facts["tracking_id"],
            "ttclid": _ttclid_of(facts["id"]) if facts["tracking_id"] else "",
            "identity_external_id": facts["identity__external_id"],
        }
    content_type = "reservation" if trigger == Trigger.RESERVATION_CONFIRMED else "product"
    return _write(
        organization_id=organization_id,
        conversation=conversation,
        trigger=trigger,
        key=key or "paid",
        rules=rules,
        properties={"value": pick("value"), "currency": pick("currency"), "content_type": content_type},
    )


# --- one enqueue per transaction --------------------------------------------------------------------------------


def schedule_delivery() -> None:
    """Enqueue ``signals.deliver_pending`` once after the current transaction commits, however many rows it
    wrote. A rolled-back transaction enqueues nothing; a lost enqueue is picked up by ``signals.sweep``."""
    connection = transaction.get_connection()
    marker = connection.atomic_blocks[0] if connection.atomic_blocks else None
    if marker is not None and getattr(connection, "_signals_delivery_marker", None) is marker:
        return
    connection._signals_delivery_marker = marker  # type: ignore[attr-defined]

    def enqueue() -> None:
        connection._signals_delivery_marker = None  # type: ignore[attr-defined]
        try:
            from signals.tasks import deliver_pending

            deliver_pending.delay()
        except Exception:
            logger.exception("could not enqueue signals.deliver_pending; the sweep will")

    transaction.on_commit(enqueue)
