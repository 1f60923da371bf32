"""What each kind of channel allows: reply windows, quotas, text length. Checked before a reply is queued.

``inbox`` does not know providers; ``integrations`` registers each adapter's capabilities here in its
``AppConfig.ready()``, so the composer can refuse early with a clear message instead of failing at the provider.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from inbox.models import Channel, Conversation


@dataclass(frozen=True)
class ChannelRules:
    reply_window: timedelta | None = None
    extended_window: timedelta | None = None
    max_business_messages_before_reply: int | None = None
    max_text_length: int = 4096
    templates: bool = False  # approved message templates may be sent, also past the reply window (WhatsApp)


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
    extended: bool = False  # past the standard window, inside the human-agent one (Messenger HUMAN_AGENT tag)
    template_only: bool = False  # past the window, but an approved template may still be sent (WhatsApp)


def outside_standard_window(conversation: Conversation) -> bool:
    rules = rules_for(conversation.channel.kind)
    if rules.reply_window is None or conversation.last_inbound_at is None:
        return False
    return conversation.last_inbound_at + rules.reply_window <= timezone.now()


def composer_state(conversation: Conversation, *, human: bool = True) -> ComposerState:
    """What may be sent now. ``human=False`` for automated messages, which get no extended window."""
    rules = rules_for(conversation.channel.kind)
    if conversation.channel.status != "active":
        reason = {
            "needs_reauthorization": "This channel needs to be reconnected on the Connections page before you can "
            "reply.",
            "disabled": "This channel is disconnected: replies cannot be sent.",
        }.get(conversation.channel.status, "This channel cannot send right now.")
        return ComposerState(False, reason, max_text_length=rules.max_text_length)
    closes_at = None
    extended = False
    if rules.reply_window is not None:
        if conversation.last_inbound_at is None:
            return ComposerState(
                False,
                _("The customer has not written yet: they must start the conversation."),
                max_text_length=rules.max_text_length,
            )
        closes = conversation.last_inbound_at + rules.reply_window
        now = timezone.now()
        if closes <= now and human and rules.extended_window is not None:
            extended = conversation.last_inbound_at + rules.extended_window > now
            if extended:
                closes = conversation.last_inbound_at + rules.extended_window
        closes_at = closes.isoformat()
        if closes <= now:
            hours = int(rules.reply_window.total_seconds() // 3600)
            if rules.templates:
                return ComposerState(
                    False,
                    ngettext(
                        "The %(hours)d-hour reply window has closed: only an approved template can be sent.",
                        "The %(hours)d-hour reply window has closed: only an approved template can be sent.",
                        hours,
                    )
                    % {"hours": hours},
                    window_closes_at=closes_at,
                    max_text_length=rules.max_text_length,
                    template_only=True,
                )
            return ComposerState(
                False,
                ngettext(
                    "The %(hours)d-hour reply window has closed: wait for the customer to write again.",
                    "The %(hours)d-hour reply window has closed: wait for the customer to write again.",
                    hours,
                )
                % {"hours": hours},
                window_closes_at=closes_at,
                max_text_length=rules.max_text_length,
            )
    remaining = None
    if rules.max_business_messages_before_reply is not None:
        remaining = max(0, rules.max_business_messages_before_reply - conversation.outbound_since_inbound)
        if remaining == 0:
            return ComposerState(
                False,
                ngettext(
                    "%(count)d message sent: the customer must reply before you can send more.",
                    "%(count)d messages sent: the customer must reply before you can send more.",
                    rules.max_business_messages_before_reply,
                )
                % {"count": rules.max_business_messages_before_reply},
                window_closes_at=closes_at,
                remaining_messages=0,
                max_text_length=rules.max_text_length,
            )
    return ComposerState(
        True,
        _("Past the standard window: only a person may answer, up to the extended window.") if extended else "",
        window_closes_at=closes_at,
        remaining_messages=remaining,
        max_text_length=rules.max_text_length,
        extended=extended,
    )


def check_can_send(conversation: Conversation, text: str, *, human: bool = True) -> None:
    """Raise ``ValidationError`` with the reason when this reply cannot be sent now."""
    state = composer_state(conversation, human=human)
    if not state.can_send:
        raise ValidationError(state.reason)
    if len(text) > state.max_text_length:
        raise ValidationError(
            _("This message is %(length)d characters long; the channel allows at most %(limit)d.")
            % {"length": len(text), "limit": state.max_text_length}
        )


# -- message templates (WhatsApp approved templates), provided by integrations -----------------------------

_PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")


@dataclass(frozen=True)
class TemplateChoice:
    """An approved template an agent or a rule may send: its body with ``{{1}}``... and how many to fill."""

    name: str
    language: str
    body_text: str
    parameter_count: int = 0
    category: str = ""

    @property
    def key(self) -> str:
        return f"{self.name}:{self.language}"

    def render(self, parameters: Sequence[str]) -> str:
        """The text the customer reads: ``{{n}}`` replaced by the n-th parameter."""
        return _PLACEHOLDER.sub(
            lambda m: parameters[int(m.group(1)) - 1] if 0 < int(m.group(1)) <= len(parameters) else m.group(0),
            self.body_text,
        )


_template_source: Callable[[Channel], list[TemplateChoice]] | None = None


def register_template_source(source: Callable[[Channel], list[TemplateChoice]]) -> None:
    """``integrations`` registers the function listing a channel's approved templates (synced from the account)."""
    global _template_source
    _template_source = source


def templates_for(channel: Channel) -> list[TemplateChoice]:
    """The channel's approved templates, empty when its kind has none."""
    if not rules_for(channel.kind).templates or _template_source is None:
        return []
    return _template_source(channel)


def template_prepare(conversation: Conversation, *, name: str, language: str, parameters: Sequence[str]) -> str:
    """Check that this approved template may be sent in ``conversation`` with these values; return its text.

    Raises ``ValidationError`` with a sentence for the agent: channel not active, no templates on this kind of
    channel, unknown or unapproved template, wrong number of values or an empty one.
    """
    state = composer_state(conversation)
    if conversation.channel.status != "active":
        raise ValidationError(state.reason)
    if not rules_for(conversation.channel.kind).templates:
        raise ValidationError(_("This channel has no message templates."))
    choice = next((t for t in templates_for(conversation.channel) if (t.name, t.language) == (name, language)), None)
    if choice is None:
        raise ValidationError(
            _(
                "“%(name)s” (%(language)s) is not an approved template of this channel: sync the templates or pick "
                "another one."
            )
            % {"name": name, "language": language}
        )
    values = [str(v).strip() for v in parameters]
    if len(values) != choice.parameter_count:
        raise ValidationError(
            _("The template “%(name)s” needs %(needed)d values; %(given)d were given.")
            % {"name": name, "needed": choice.parameter_count, "given": len(values)}
        )
    if any(not v for v in values):
        raise ValidationError(_("Fill in every variable of the template."))
    return choice.render(values)
