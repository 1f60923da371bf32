"""The sandbox channel: a real adapter whose "provider" is the customer simulator page inside Switchboard.

It speaks a small documented protocol of its own so the embedded demo and the browser tests exercise the
whole path (signature, stored delivery, task, parse, upsert, broadcast, send) without any outside account.

Webhook body::

    {"account_id": "<channel account id>",
     "events": [
        {"type": "message", "id": "sbx-…", "customer": {"id": "…", "name": "…"}, "text": "…",
         "timestamp": 1700000000.5, "referral": {"ad_id": "…", "campaign_id": "…", "ref": "…"}},
        {"type": "status", "id": "sbx-…", "status": "delivered", "timestamp": 1700000001}
     ]}

Signature: ``X-Sandbox-Signature: sha256=<hex HMAC-SHA256(app secret, raw body)>``.
Sending stores the reply in the simulator's mailbox (:class:`integrations.models.SandboxMessage`), the way
Django's locmem mail backend records mail: a real backend that keeps what it was given.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from integrations.channels.base import (
    Capabilities,
    ChannelSecrets,
    HandshakeRefused,
    Ignored,
    InboundEvent,
    InboundMessage,
    OutboundMessage,
    ParseError,
    ProviderResult,
    Referral,
    SendError,
    SignatureInvalid,
    StatusUpdate,
    WebhookRequest,
)

SIGNATURE_HEADER = "X-Sandbox-Signature"
STATUSES = {"sent", "delivered", "read", "failed"}


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _timestamp(value: Any) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParseError("timestamp must be a number of seconds")
    try:
        return datetime.fromtimestamp(float(value), tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise ParseError("timestamp out of range") from exc


def _text(value: Any, field: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ParseError(f"{field} must be a string")
    return value


class SandboxAdapter:
    kind: ClassVar[str] = "sandbox"
    capabilities: ClassVar[Capabilities] = Capabilities(reply_window=None, max_text_length=4096, media=False)

    def verify_request(self, request: WebhookRequest, secrets: ChannelSecrets) -> None:
        given = request.header(SIGNATURE_HEADER)
        if not given:
            raise SignatureInvalid(f"missing {SIGNATURE_HEADER} header")
        if not secrets.app_secret or not hmac.compare_digest(given, sign(request.body, secrets.app_secret)):
            raise SignatureInvalid("signature does not match the body")

    def verification_challenge(self, request: WebhookRequest, secrets: ChannelSecrets) -> str:
        raise HandshakeRefused("the sandbox has no GET handshake")

    def parse(self, raw: bytes) -> list[InboundEvent]:
        try:
            document = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"body is not JSON: {exc}") from exc
        if not isinstance(document, dict):
            raise ParseError("body must be a JSON object")
        account_id = _text(document.get("account_id"), "account_id")
        items = document.get("events")
        if not isinstance(items, list):
            raise ParseError("events must be a list")
        return [self._event(account_id, item, index) for index, item in enumerate(items)]

    def _event(self, account_id: str, item: Any, index: int) -> InboundEvent:
        if not isinstance(item, dict):
            raise ParseError(f"events[{index}] must be an object")
        kind = item.get("type")
        external_id = _text(item.get("id"), f"events[{index}].id")
        if kind == "message":
            customer = item.get("customer")
            if not isinstance(customer, dict) or not _text(customer.get("id"), "customer.id"):
                raise ParseError(f"events[{index}].customer.id is required")
            if not external_id:
                raise ParseError(f"events[{index}].id is required")
            referral = item.get("referral")
            return InboundMessage(
                account_id=account_id,
                external_id=external_id,
                customer_id=customer["id"],
                customer_name=_text(customer.get("name"), "customer.name"),
                sent_at=_timestamp(item.get("timestamp")),
                text=_text(item.get("text"), f"events[{index}].text"),
                referral=self._referral(referral) if isinstance(referral, dict) else None,
            )
        if kind == "status":
            status = item.get("status")
            if not isinstance(status, str) or status not in STATUSES:
                raise ParseError(f"events[{index}].status must be one of {sorted(STATUSES)}")
            return StatusUpdate(
                account_id=account_id, external_id=external_id, status=status, at=_timestamp(item.get("timestamp"))
            )
        return Ignored(reason=f"unknown sandbox event type {kind!r}", account_id=account_id)

    @staticmethod
    def _referral(data: dict[str, Any]) -> Referral:
        return Referral(
            source="sandbox_ad",
            ad_id=str(data.get("ad_id") or ""),
            campaign_id=str(data.get("campaign_id") or ""),
            click_id=str(data.get("click_id") or ""),
            ref=str(data.get("ref") or ""),
        )

    def send(self, secrets: ChannelSecrets, message: OutboundMessage) -> ProviderResult:
        from inbox.models import Channel
        from integrations.models import SandboxMessage

        if not message.text:
            raise SendError("the sandbox only carries text")
        channel = Channel.objects.filter(kind="sandbox", account_id=secrets.account_id).first()
        if channel is None:
            raise SendError("sandbox account not found")
        external_id = f"sbx-out-{uuid.uuid4().hex}"
        SandboxMessage.objects.create(
            channel=channel,
            customer_id=message.customer_id,
            side=SandboxMessage.Side.BUSINESS,
            external_id=external_id,
            text=message.text,
        )
        return ProviderResult(external_id=external_id)


def message_body(*, account_id: str, events: list[dict[str, Any]]) -> bytes:
    """A sandbox webhook body, as the simulator and tests post it."""
    return json.dumps({"account_id": account_id, "events": events}, separators=(",", ":")).encode()
