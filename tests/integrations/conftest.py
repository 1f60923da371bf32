"""Deliveries as each provider sends them, built from the payload files with fresh ids, texts and times.

The contract tests (``test_contract.py``) and the end-to-end tests (``test_end_to_end_providers.py``) need the
documented shapes of ``tests/payloads/<provider>/`` with *current* timestamps: the payload files carry dates
from the providers' documentation, and a conversation whose last customer message is that old is outside every
reply window. :class:`ProviderKit` loads a file, changes only ids, text and times, and signs the body the way
the provider does.
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from integrations.meta import webhooks as meta_webhooks
from integrations.sandbox import adapter as sandbox_adapter
from integrations.tiktok import signature as tiktok_signature

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads"

# The accounts the payload files are written for (the business side of each conversation).
WHATSAPP_PHONE_NUMBER_ID = "106540352242922"
WHATSAPP_CUSTOMER = "16505551234"
MESSENGER_PAGE_ID = "682498302938465"
MESSENGER_PSID = "6783451238412954"
TIKTOK_BUSINESS_ID = "biz-openid-7f3a"
TIKTOK_CUSTOMER = "cust-openid-91c2"
TIKTOK_CONVERSATION = "conv-5d1e0a"


@cache
def _payload_text(provider: str, name: str) -> str:
    return (PAYLOADS / provider / f"{name}.json").read_text()


def payload(provider: str, name: str) -> dict[str, Any]:
    """A fresh copy of a payload file, to change freely."""
    return copy.deepcopy(json.loads(_payload_text(provider, name)))


def encode(document: Any) -> bytes:
    return json.dumps(document).encode()


@dataclass(frozen=True)
class ProviderKit:
    """What a test needs to play one provider: its account, customer, deliveries and signature."""

    kind: str
    account_id: str
    customer_id: str
    thread_id: str = ""

    # -- signing ---------------------------------------------------------------------------------------------
    @property
    def signature_header(self) -> str:
        return {
            "whatsapp": meta_webhooks.SIGNATURE_HEADER,
            "messenger": meta_webhooks.SIGNATURE_HEADER,
            "tiktok": tiktok_signature.HEADER,
            "sandbox": sandbox_adapter.SIGNATURE_HEADER,
        }[self.kind]

    def sign(self, body: bytes, secret: str, at: float | None = None) -> dict[str, str]:
        """The signature header the provider sends with ``body`` (TikTok signs a timestamp too)."""
        if self.kind == "tiktok":
            value = tiktok_signature.sign(body, secret, int(time.time() if at is None else at))
        elif self.kind == "sandbox":
            value = sandbox_adapter.sign(body, secret)
        else:
            value = meta_webhooks.sign(body, secret)
        return {self.signature_header: value}

    # -- deliveries ------------------------------------------------------------------------------------------
    def inbound(self, *, external_id: str, text: str, at: float | None = None) -> bytes:
        """One customer text message, ``external_id`` being the provider's message id."""
        at = time.time() if at is None else at
        if self.kind == "whatsapp":
            doc = payload("whatsapp", "text")
            message = doc["entry"][0]["changes"][0]["value"]["messages"][0]
            message.update(id=external_id, timestamp=str(int(at)), text={"body": text})
            return encode(doc)
        if self.kind == "messenger":
            doc = payload("messenger", "text")
            entry = doc["entry"][0]
            entry["time"] = int(at * 1000)
            entry["messaging"][0].update(timestamp=int(at * 1000), message={"mid": external_id, "text": text})
            return encode(doc)
        if self.kind == "tiktok":
            return _tiktok("im_receive_msg_text", at, message_id=external_id, text={"body": text})
        return sandbox_adapter.message_body(
            account_id=self.account_id,
            events=[
                {
                    "type": "message",
                    "id": external_id,
                    "customer": {"id": self.customer_id, "name": "Dewi"},
                    "text": text,
                    "timestamp": at,
                }
            ],
        )

    def receipts(self, *, external_id: str, at: float | None = None) -> dict[str, bytes]:
        """The documented receipts for a message the business sent, by status (``delivered``, ``read``).

        WhatsApp sends one status per message; Messenger a delivery naming the ``mid`` and a read watermark;
        TikTok only a read event (``im_mark_read_msg``) with a watermark, and no delivery receipt at all.
        """
        # A second after now by default: a receipt follows the send, and watermarks keep only milliseconds.
        at = time.time() + 1 if at is None else at
        if self.kind == "whatsapp":
            found = {}
            for status in ("delivered", "read"):
                doc = payload("whatsapp", f"status_{status}")
                doc["entry"][0]["changes"][0]["value"]["statuses"][0].update(id=external_id, timestamp=str(int(at)))
                found[status] = encode(doc)
            return found
        if self.kind == "messenger":
            delivery = payload("messenger", "delivery")
            delivery["entry"][0]["messaging"][0]["delivery"] = {"mids": [external_id], "watermark": int(at * 1000)}
            read = payload("messenger", "read")
            read["entry"][0]["messaging"][0].update(timestamp=int(at * 1000), read={"watermark": int(at * 1000)})
            return {"delivered": encode(delivery), "read": encode(read)}
        if self.kind == "tiktok":
            return {"read": _tiktok("im_mark_read_msg", at, read={"last_read_timestamp": int(at * 1000)})}
        events = [{"type": "status", "id": external_id, "status": s, "timestamp": at} for s in ("delivered", "read")]
        return {
            e["status"]: sandbox_adapter.message_body(account_id=self.account_id, events=[e]) for e in events
        }

    def echo(self, *, external_id: str, text: str, at: float | None = None) -> bytes | None:
        """The provider's echo of a message the business sent (Messenger ``is_echo``, TikTok ``im_send_msg``)."""
        at = time.time() if at is None else at
        if self.kind == "messenger":
            doc = payload("messenger", "echo")
            event = doc["entry"][0]["messaging"][0]
            event["timestamp"] = int(at * 1000)
            event["message"].update(mid=external_id, text=text)
            return encode(doc)
        if self.kind == "tiktok":
            return _tiktok("im_send_msg_echo", at, message_id=external_id, text={"body": text})
        return None


def _tiktok(name: str, at: float, **content_changes: Any) -> bytes:
    doc = payload("tiktok", name)
    content = json.loads(doc["content"])  # TikTok's content is a JSON string inside the JSON body
    content.update(timestamp=int(at * 1000), **content_changes)
    doc.update(create_time=int(at), content=json.dumps(content))
    return encode(doc)


KITS: dict[str, ProviderKit] = {
    "whatsapp": ProviderKit("whatsapp", WHATSAPP_PHONE_NUMBER_ID, WHATSAPP_CUSTOMER),
    "messenger": ProviderKit("messenger", MESSENGER_PAGE_ID, MESSENGER_PSID),
    "tiktok": ProviderKit("tiktok", TIKTOK_BUSINESS_ID, TIKTOK_CUSTOMER, TIKTOK_CONVERSATION),
    "sandbox": ProviderKit("sandbox", "sandbox-contract", "cust-42"),
}
