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
from django.utils.translation import gettext_lazy

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
        REFERRAL = "referral", gettext_lazy("Referral field")
        PATTERN = "pattern", gettext_lazy("Pattern over the first messages")

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
        CONNECTED = "connected", gettext_lazy("Connected")
        NEEDS_RECONNECTION = "needs_reconnection", gettext_lazy("Needs reconnection")
        DISCONNECTED = "disconnected", gettext_lazy("Disconnected")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="advertiser_accounts")
    name = models.CharField(max_length=120)
    advertiser_id = models.CharField(max_length=64, blank=True, default="")
    event_set_id = models.CharField(max_length=64, help_text=gettext_lazy("The event set id, sent as event_source_id."))
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
        CONVERSATION_STARTED_FROM_AD = "conversation_started_from_ad", gettext_lazy("Conversation started from an ad")
        KEYWORD_FLAG = "keyword_flag", gettext_lazy("Keyword flag raised")
        LABEL_APPLIED = "label_applied", gettext_lazy("Label applied")
        ORDER_PAID = "order_paid", gettext_lazy("Order paid")
        RESERVATION_CONFIRMED = "reservation_confirmed", gettext_lazy("Reservation confirmed")

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
        PENDING = "pending", gettext_lazy("Pending")
        SENDING = "sending", gettext_lazy("Sending")
        DELIVERED = "delivered", gettext_lazy("Delivered")
        DEAD = "dead", gettext_lazy("Dead letter")

    # Every row is updated twice on its way out (claimed, delivered) and each update writes every index: no
    # index of its own here, ``signal_org_status`` starts with the organization.
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="signal_events", db_index=False
    )
    advertiser_account = models.ForeignKey(AdvertiserAccount, on_delete=models.CASCADE, related_name="events")
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.SET_NULL, related_name="signal_events"
    )
    trigger = models.CharField(max_length=32, choices=MessageEventRule.Trigger.choices)
    event_name = models.CharField(max_length=64)
    # Deterministic (sha256 of organization, conversation, trigger, flag, truncated): TikTok's 48-hour
    # deduplication makes retries safe, and the unique constraint makes subscribers idempotent.
    # Unique through a constraint, not ``unique=True``: on PostgreSQL that would add a second (LIKE) index.
    event_id = models.CharField(max_length=64)
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
            # Only rows still to send (a small, hot set, whatever the history): the claim's ORDER BY ... LIMIT
            # and the sweep read it in order instead of sorting every due row.
            models.Index(
                fields=["advertiser_account", "next_attempt_at", "id"],
                condition=Q(status__in=["pending", "sending"]),
                name="signal_due_rows",
            ),
            # Dead letters are few; the metrics scrape counts them without reading the delivered history.
            models.Index(fields=["created_at"], condition=Q(status="dead"), name="signal_dead"),
            # Delivered in the last 24 hours (the metrics scrape): a range on the newest end of this index.
            models.Index(fields=["delivered_at"], condition=Q(status="delivered"), name="signal_delivered_at"),
            models.Index(fields=["organization", "status", "-created_at"], name="signal_org_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="delivered") | Q(delivered_at__isnull=False), name="signal_delivered_has_time"
            ),
            models.UniqueConstraint(fields=["event_id"], name="signal_event_id_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.event_name} {self.event_id} ({self.status})"


class SignalDelivery(models.Model):
    """The "Sent to TikTok" log: each request body exactly as sent, with the answer. Only built from
    :class:`SignalEvent` rows, so it holds no message text either."""

    class Outcome(models.TextChoices):
        DELIVERED = "delivered", gettext_lazy("Delivered")
        RETRY = "retry", gettext_lazy("Will retry")
        DEAD = "dead", gettext_lazy("Rejected")

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
