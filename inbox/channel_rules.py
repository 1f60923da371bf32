"""What each kind of channel allows: reply windows, quotas, text length. Checked before a reply is queued.

``inbox`` does not know providers; ``integrations`` registers each adapter's capabilities here in its
``AppConfig.ready()``, so the composer can refuse early with a clear message instead of failing at the provider.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone

from inbox.models import Conversation


@dataclass(frozen=True)
class ChannelRules:
    reply_window: timedelta | None = None
    extended_window: timedelta | None = None
    max_business_messages_before_reply: int | None = None
    max_text_length: int = 4096


_rules: dict[str, ChannelRules] = {}


def register(kind: str, rules: ChannelRules) -> None:
    _rules[kind] = rules


def rules_for(kind: str) -> ChannelRules:
    return _rules.get(kind, ChannelRules())


@dataclass(frozen=True)
class ComposerState:
    """What the agent sees where they type: may they send, until when, how many messages are left."""

    can_send: bool
    reason: str = ""
    window_closes_at: str | None = None  # ISO time, None when the channel has no window
    remaining_messages: int | None = None
    max_text_length: int = 4096


def composer_state(conversation: Conversation) -> ComposerState:
    rules = rules_for(conversation.channel.kind)
    closes_at = None
    if rules.reply_window is not None:
        if conversation.last_inbound_at is None:
            return ComposerState(
                False,
                "The customer has not written yet: they must start the conversation.",
                max_text_length=rules.max_text_length,
            )
        closes = conversation.last_inbound_at + rules.reply_window
        closes_at = closes.isoformat()
        if closes <= timezone.now():
            hours = int(rules.reply_window.total_seconds() // 3600)
            return ComposerState(
                False,
                f"The {hours}-hour reply window has closed: wait for the customer to write again.",
                window_closes_at=closes_at,
                max_text_length=rules.max_text_length,
            )
    remaining = None
    if rules.max_business_messages_before_reply is not None:
        remaining = max(0, rules.max_business_messages_before_reply - conversation.outbound_since_inbound)
        if remaining == 0:
            return ComposerState(
                False,
                f"{rules.max_business_messages_before_reply} messages sent: the customer must reply before you "
                "can send more.",
                window_closes_at=closes_at,
                remaining_messages=0,
                max_text_length=rules.max_text_length,
            )
    return ComposerState(
        True, window_closes_at=closes_at, remaining_messages=remaining, max_text_length=rules.max_text_length
    )


def check_can_send(conversation: Conversation, text: str) -> None:
    """Raise ``ValidationError`` with the reason when this reply cannot be sent now."""
    state = composer_state(conversation)
    if not state.can_send:
        raise ValidationError(state.reason)
    if len(text) > state.max_text_length:
        raise ValidationError(
            f"This message is {len(text)} characters long; the channel allows at most {state.max_text_length}."
        )
