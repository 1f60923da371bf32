"""Messages to the customer through the inbox, which applies each channel's reply window and quota."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

from inbox.models import Conversation
from inbox.services.messages import message_send_automated


@dataclass(frozen=True)
class SendOutcome:
    sent: bool
    message_id: int | None = None
    reason: str = ""  # why it could not be sent now, in the channel's words

    @property
    def notice(self) -> str:
        return "Message queued for the customer." if self.sent else f"Cannot send now: {self.reason}"


def send_to_customer(*, conversation: Conversation, text: str, commerce: dict[str, Any]) -> SendOutcome:
    """Queue ``text`` in the conversation, or say why it cannot be sent now. Never raises for channel rules.

    Runs in its own savepoint: a refusal leaves the caller's transaction (the order change) intact.
    """
    try:
        message = message_send_automated(conversation=conversation, text=text, metadata={"commerce": commerce})
    except ValidationError as exc:
        return SendOutcome(False, reason=" ".join(exc.messages))
    return SendOutcome(True, message_id=message.pk)
