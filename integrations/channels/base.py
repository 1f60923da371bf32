"""The one interface every channel provider implements.

Provider modules (``integrations/<provider>/``) are the only code that reads a provider's JSON. They turn raw
webhook bodies into the normalized dataclasses below and send :class:`OutboundMessage` through the provider's
HTTP API. Everything else in Switchboard (``inbox``, ``signals``) only ever sees these dataclasses.

An adapter is a plain object, free of Django request objects and of the database, so it can be tested and
fuzzed on bytes alone:

* :meth:`ChannelAdapter.verify_request` checks a delivery's authenticity (signature on the raw body, timestamp
  window) and raises :class:`SignatureInvalid` when it fails.
* :meth:`ChannelAdapter.verification_challenge` answers the provider's ``GET`` subscription handshake.
* :meth:`ChannelAdapter.parse` is pure: raw bytes in, a list of :data:`InboundEvent` out, or :class:`ParseError`
  with a reason a human can read. It never raises anything else, whatever the input.
* :meth:`ChannelAdapter.send` posts one outbound message and returns a :class:`ProviderResult`; transient
  failures (timeouts, 429, 5xx, throttling codes) raise :class:`SendError` with ``retryable=True`` after the
  HTTP client's own retries are spent, permanent ones with ``retryable=False`` and a reason an agent
  understands (``outside the 24-hour window``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, Literal, Protocol

MessageKind = Literal[
    "text",
    "image",
    "audio",
    "video",
    "document",
    "sticker",
    "location",
    "contacts",
    "reaction",
    "quick_reply",
    "postback",
    "share_post",
    "unsupported",
]
Direction = Literal["inbound", "outbound"]
DeliveryStatus = Literal["sent", "delivered", "read", "failed"]


class AdapterError(Exception):
    """Base of the errors an adapter raises on purpose."""


class SignatureInvalid(AdapterError):
    """The delivery is not authentic: missing or wrong signature, or a stale timestamp."""


class HandshakeRefused(AdapterError):
    """The provider's GET verification handshake does not match this channel (wrong mode or token)."""


class ParseError(AdapterError):
    """The body cannot be understood. ``str(error)`` is the reason shown to admins."""


class SendError(AdapterError):
    """Sending failed. ``reason`` is shown to the agent on the message; ``code`` is the provider's code."""

    def __init__(self, reason: str, *, code: str = "", retryable: bool = False, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.retryable = retryable
        self.retry_after = retry_after


@dataclass(frozen=True)
class WebhookRequest:
    """What an adapter may look at of an HTTP request: nothing Django-specific."""

    method: str
    body: bytes
    headers: Mapping[str, str]  # keys lower-cased
    query: Mapping[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


@dataclass(frozen=True)
class ChannelSecrets:
    """A channel's credentials, decrypted only for the duration of a call.

    ``account_id`` is the provider's id of the business account the channel stands for: the WhatsApp
    ``phone_number_id``, the Messenger page id, the TikTok business ``open_id``. ``app_secret`` signs webhooks,
    ``verify_token`` answers the GET handshake, ``access_token`` authorizes sends.
    """

    account_id: str = ""
    app_secret: str = ""
    verify_token: str = ""
    access_token: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Referral:
    """Where a conversation came from: the ad data a provider attaches to the first message or thread.

    Only identifiers live here (ad, campaign, click id, ref), never message text. ``source`` names the provider
    mechanism (``ctwa`` click-to-WhatsApp, ``messenger_ad``, ``tiktok_ad``); ``data`` keeps the other documented
    fields (``source_url``, ``source_type``, ``headline``...) as the provider sent them.
    """

    source: str
    ad_id: str = ""
    campaign_id: str = ""
    click_id: str = ""
    ref: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Attachment:
    kind: str  # image, audio, video, document, sticker, location, contacts, share_post, ...
    media_id: str = ""
    url: str = ""
    mime_type: str = ""
    caption: str = ""
    filename: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)  # e.g. latitude/longitude, shared contacts, embed_url


@dataclass(frozen=True)
class InboundMessage:
    """A message in a conversation, either from the customer (inbound) or an echo of the business (outbound).

    ``account_id`` routes the message to its channel; ``external_id`` is the provider's message id, unique per
    channel, which makes processing idempotent. ``customer_id`` is the customer's id on the channel (WhatsApp
    ``wa_id``, Messenger PSID, TikTok user id), whatever the direction. ``thread_id`` is the provider's
    conversation id where replies need it (TikTok ``conversation_id``).
    """

    account_id: str
    external_id: str
    customer_id: str
    sent_at: datetime
    kind: MessageKind = "text"
    direction: Direction = "inbound"
    text: str = ""
    customer_name: str = ""
    thread_id: str = ""
    attachments: tuple[Attachment, ...] = ()
    referral: Referral | None = None
    reply_to_external_id: str = ""
    metadata: Mapping[str, Any] = field(default_factory=dict)  # e.g. reaction emoji, postback payload


@dataclass(frozen=True)
class StatusUpdate:
    """A delivery receipt for one message we sent. Statuses only move forward; the inbox enforces it."""

    account_id: str
    external_id: str
    status: DeliveryStatus
    at: datetime
    customer_id: str = ""
    error: str = ""


@dataclass(frozen=True)
class ReadWatermark:
    """The customer read everything we sent in this thread up to ``up_to`` (Messenger ``read``, TikTok read)."""

    account_id: str
    customer_id: str
    up_to: datetime
    thread_id: str = ""


@dataclass(frozen=True)
class ConversationReferral:
    """A referral that arrives without a message (Messenger ``messaging_referrals``): attribution only."""

    account_id: str
    customer_id: str
    at: datetime
    referral: Referral


@dataclass(frozen=True)
class Ignored:
    """A documented-but-unused or unknown event, kept on the stored webhook with the reason it was skipped."""

    reason: str
    account_id: str = ""


@dataclass(frozen=True)
class AuthorizationRevoked:
    """The account withdrew our access at the provider (TikTok ``authorization.removed``): its token is dead.

    ``reason`` is the provider's reason in words (``user disconnected from the TikTok app``...).
    """

    account_id: str
    at: datetime
    reason: str = ""


InboundEvent = InboundMessage | StatusUpdate | ReadWatermark | ConversationReferral | AuthorizationRevoked | Ignored


@dataclass(frozen=True)
class OutboundMessage:
    """One reply to send. ``customer_id``/``thread_id`` come from the conversation's contact identity."""

    customer_id: str
    text: str = ""
    thread_id: str = ""
    attachments: tuple[Attachment, ...] = ()
    reply_to_external_id: str = ""
    tag: str = ""  # e.g. Messenger HUMAN_AGENT outside the standard window
    template: Mapping[str, Any] | None = None  # WhatsApp approved template outside the 24-hour window
    client_ref: str = ""  # our message id, for the provider's idempotency where supported


@dataclass(frozen=True)
class ProviderResult:
    external_id: str
    raw_status: str = "sent"


@dataclass(frozen=True)
class Capabilities:
    """What a channel can do, shown to agents where they type."""

    reply_window: timedelta | None  # None: no window
    extended_window: timedelta | None = None  # e.g. Messenger HUMAN_AGENT tag
    max_business_messages_before_reply: int | None = None  # TikTok: 10
    max_text_length: int = 4096
    media: bool = True
    templates: bool = False
    sends_per_second: float | None = None


class MediaError(AdapterError):
    """Fetching a received media object failed. ``not_found``: the provider has no such media (any more)."""

    def __init__(self, reason: str, *, code: str = "", retryable: bool = False, not_found: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.retryable = retryable
        self.not_found = not_found


@dataclass(frozen=True)
class MessageTemplate:
    """A message template as the provider lists it (WhatsApp approved templates), already understood.

    ``body_text`` is the body component's text with ``{{1}}``, ``{{2}}``... placeholders and
    ``body_parameter_count`` how many of them a send must fill. ``components`` keeps the provider's definition.
    """

    name: str
    language: str
    status: str
    category: str = ""
    body_text: str = ""
    body_parameter_count: int = 0
    components: tuple[Mapping[str, Any], ...] = ()


@dataclass
class MediaDownload:
    """A media object being downloaded from the provider: iterate ``chunks`` once, then it closes itself.

    ``close`` must be called if the chunks are not consumed to the end (the HTTP connection stays open).
    """

    content_type: str
    chunks: Iterator[bytes]
    close: Callable[[], None]
    filename: str = ""
    size: int | None = None


@dataclass(frozen=True)
class MediaRequest:
    """What an adapter needs to find one received attachment: the attachment and the message it came with."""

    attachment: Attachment
    external_message_id: str = ""
    thread_id: str = ""


class ChannelAdapter(Protocol):
    """The contract every provider module implements. See the module docstring for each method's promise."""

    kind: ClassVar[str]
    capabilities: ClassVar[Capabilities]

    def verify_request(self, request: WebhookRequest, secrets: ChannelSecrets) -> None:
        """Raise :class:`SignatureInvalid` unless ``request`` is an authentic delivery for ``secrets``."""

    def verification_challenge(self, request: WebhookRequest, secrets: ChannelSecrets) -> str:
        """Answer the GET subscription handshake (the text to echo) or raise :class:`HandshakeRefused`."""

    def parse(self, raw: bytes) -> list[InboundEvent]:
        """Turn a raw body into events, or raise :class:`ParseError`. Pure; never raises anything else."""

    def send(self, secrets: ChannelSecrets, message: OutboundMessage) -> ProviderResult:
        """Send one message through the provider's API, or raise :class:`SendError`.

        ``message.template`` (``{"name", "language", "body_parameters": [str, ...]}``) sends an approved
        template; an adapter whose ``capabilities.templates`` is false refuses it with a permanent ``SendError``.
        """


class TemplateSource(Protocol):
    """Optional capability (``capabilities.templates``): list the account's message templates."""

    def fetch_templates(self, secrets: ChannelSecrets) -> list[MessageTemplate]:
        """Every template of the account, all statuses, following the provider's pages; or :class:`SendError`."""


class MediaSource(Protocol):
    """Optional capability (``capabilities.media``): download a received attachment, on demand.

    Media is never copied into Switchboard: the provider keeps it and we fetch it when an agent opens it.
    """

    def fetch_media(self, secrets: ChannelSecrets, request: MediaRequest) -> MediaDownload:
        """Open the download of one attachment, or raise :class:`MediaError` (``not_found`` when it is gone)."""
