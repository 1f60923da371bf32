"""What goes back to TikTok: curated keyword lists, tracking-ID extractors, message event rules, advertiser
accounts, and the signal outbox with its delivery log.

Privacy by construction: :class:`SignalEvent` (the outbox) has no field that can hold message text. Its strings
are identifiers with small ``max_length`` bounds (event names, a deterministic event id, a tracking id) and its
JSON fields are written only by :mod:`signals.services.outbox`, which accepts flag names from the organization's
rules, numbers and enumerations (``tests/signals/test_models.py`` checks the field list).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from inbox.models import Conversation, Organization

#: TikTok does not publish the ``event_source`` value of a Message Event Set: a per-account setting, this default.
DEFAULT_EVENT_SOURCE = "MESSAGE"


class KeywordList(models.Model):
    """A curated keyword list of one organization. ``version`` is bumped on every change of its keywords, so
    the cached matcher of the organization knows when to rebuild (see :func:`signals.services.keywords`)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="keyword_lists")
    name = models.CharField(max_length=120)
    tiktok_provided = models.BooleanField(default=False)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="keyword_list_unique_name")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Keyword(models.Model):
    keyword_list = models.ForeignKey(KeywordList, on_delete=models.CASCADE, related_name="keywords")
    phrase = models.CharField(max_length=200)
    # The flag raised when the phrase appears (several phrases may share one, e.g. "payment" for "pembayaran").
    flag = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["keyword_list", "phrase"], name="keyword_unique_phrase")]
        ordering = ["flag", "phrase"]

    def __str__(self) -> str:
        return f"{self.phrase} -> {self.flag}"


class TrackingExtractorRule(models.Model):
    """One named extractor (see :class:`signals.extract.Extractor`); ``position`` orders them."""

    class Kind(models.TextChoices):
        REFERRAL = "referral", "Referral field"
        PATTERN = "pattern", "Pattern over the first messages"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="extractor_rules")
    name = models.CharField(max_length=64)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    field = models.CharField(max_length=64, blank=True, default="")
    pattern = models.CharField(max_length=500, blank=True, default="")
    position = models.PositiveIntegerField(default=0)
    enabled = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="extractor_unique_name")]
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class AdvertiserAccount(models.Model):
    """A connected TikTok advertiser account and its Message Event Set. The access token is encrypted at rest."""

    class Status(models.TextChoices):
        CONNECTED = "connected", "Connected"
        NEEDS_RECONNECTION = "needs_reconnection", "Needs reconnection"
        DISCONNECTED = "disconnected", "Disconnected"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="advertiser_accounts")
    name = models.CharField(max_length=120)
    advertiser_id = models.CharField(max_length=64, blank=True, default="")
    event_set_id = models.CharField(max_length=64, help_text="The event set id, sent as event_source_id.")
    event_source = models.CharField(max_length=32, default=DEFAULT_EVENT_SOURCE)
    access_token_encrypted = models.TextField(blank=True, default="")
    test_event_code = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.CONNECTED)
    status_reason = models.CharField(max_length=300, blank=True, default="")
    # A sandbox account posts to Switchboard's own built-in Events API, in-process (see signals.client).
    is_sandbox = models.BooleanField(default=False)
    # The OAuth grant (integrations.connections) this account came from, when it was connected through OAuth.
    grant_id = models.PositiveBigIntegerField(null=True, blank=True)
    connected_at = models.DateTimeField(default=timezone.now)
    disconnected_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "grant_id"],
                condition=models.Q(grant_id__isnull=False),
                name="advertiser_unique_grant",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.event_set_id})"

    @property
    def delivers(self) -> bool:
        return self.status == self.Status.CONNECTED


class MessageEventRule(models.Model):
    """Which happening becomes which TikTok event, for which advertiser account."""

    class Trigger(models.TextChoices):
        CONVERSATION_STARTED_FROM_AD = "conversation_started_from_ad", "Conversation started from an ad"
        KEYWORD_FLAG = "keyword_flag", "Keyword flag raised"
        LABEL_APPLIED = "label_applied", "Label applied"
        ORDER_PAID = "order_paid", "Order paid"
        RESERVATION_CONFIRMED = "reservation_confirmed", "Reservation confirmed"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="message_event_rules")
    trigger = models.CharField(max_length=32, choices=Trigger.choices)
    # The flag (keyword trigger) or label name (label trigger); blank: any.
    flag = models.CharField(max_length=64, blank=True, default="")
    event_name = models.CharField(max_length=64)
    advertiser_account = models.ForeignKey(AdvertiserAccount, on_delete=models.CASCADE, related_name="rules")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "trigger", "flag", "event_name", "advertiser_account"],
                name="event_rule_unique",
            )
        ]
        ordering = ["trigger", "flag", "id"]

    def __str__(self) -> str:
        return f"{self.get_trigger_display()} {self.flag} -> {self.event_name}"


class ConversationFlag(models.Model):
    """A keyword flag raised in a conversation: once per conversation, whatever the number of mentions."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="signal_flags")
    flag = models.CharField(max_length=64)
    raised_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["conversation", "flag"], name="conversation_flag_once")]
        indexes = [models.Index(fields=["flag", "raised_at"], name="conv_flag_raised")]

    def __str__(self) -> str:
        return f"{self.flag} in {self.conversation_id}"


class SignalEvent(models.Model):
    """THE OUTBOX: one event for TikTok. No field can hold message text (see the module docstring)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        DELIVERED = "delivered", "Delivered"
        DEAD = "dead", "Dead letter"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="signal_events")
    advertiser_account = models.ForeignKey(AdvertiserAccount, on_delete=models.CASCADE, related_name="events")
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.SET_NULL, related_name="signal_events"
    )
    trigger = models.CharField(max_length=32, choices=MessageEventRule.Trigger.choices)
    event_name = models.CharField(max_length=64)
    # Deterministic (sha256 of organization, conversation, trigger, flag, truncated): TikTok's 48-hour
    # deduplication makes retries safe, and the unique constraint makes subscribers idempotent.
    event_id = models.CharField(max_length=64, unique=True)
    event_time = models.DateTimeField()
    tracking_id = models.CharField(max_length=191, blank=True, default="")
    ttclid = models.CharField(max_length=191, blank=True, default="")
    flags = models.JSONField(default=list, blank=True)  # flag names of the organization's rules only
    properties = models.JSONField(default=dict, blank=True)  # numbers and enumerations only
    user_ids = models.JSONField(default=dict, blank=True)  # sha256 hex digests only
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.CharField(max_length=300, blank=True, default="")
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["advertiser_account", "status", "next_attempt_at"], name="signal_due"),
            models.Index(fields=["organization", "status", "-created_at"], name="signal_org_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="delivered") | Q(delivered_at__isnull=False), name="signal_delivered_has_time"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_name} {self.event_id} ({self.status})"


class SignalDelivery(models.Model):
    """The "Sent to TikTok" log: each request body exactly as sent, with the answer. Only built from
    :class:`SignalEvent` rows, so it holds no message text either."""

    class Outcome(models.TextChoices):
        DELIVERED = "delivered", "Delivered"
        RETRY = "retry", "Will retry"
        DEAD = "dead", "Rejected"

    advertiser_account = models.ForeignKey(AdvertiserAccount, on_delete=models.CASCADE, related_name="deliveries")
    request_body = models.TextField()  # the exact bytes posted, decoded as UTF-8
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True, default="")
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    error = models.CharField(max_length=300, blank=True, default="")
    event_ids = models.JSONField(default=list)
    event_count = models.PositiveIntegerField(default=0)
    duration_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Delivery {self.pk} ({self.outcome}, {self.event_count} events)"
