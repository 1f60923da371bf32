"""The inbox domain: organizations and their people, channels, contacts, conversations and messages.

Invariants live in the database (unique and check constraints), so concurrent workers cannot break them.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy


class Organization(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    OWNER = "owner", gettext_lazy("Owner")
    ADMIN = "admin", gettext_lazy("Admin")
    SUPERVISOR = "supervisor", gettext_lazy("Supervisor")
    AGENT = "agent", gettext_lazy("Agent")


class Channel(models.Model):
    class Kind(models.TextChoices):
        SANDBOX = "sandbox", gettext_lazy("Sandbox")
        WHATSAPP = "whatsapp", gettext_lazy("WhatsApp")
        MESSENGER = "messenger", gettext_lazy("Messenger")
        TIKTOK = "tiktok", gettext_lazy("TikTok")

    class Status(models.TextChoices):
        ACTIVE = "active", gettext_lazy("Active")
        NEEDS_REAUTHORIZATION = "needs_reauthorization", gettext_lazy("Needs reauthorization")
        DISABLED = "disabled", gettext_lazy("Disabled")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="channels")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    name = models.CharField(max_length=120)
    status = models.CharField(max_length=32, choices=Status.choices, default=Status.ACTIVE)
    # The provider's id of the business account (phone_number_id, page id, TikTok business open_id): how
    # app-level webhooks are routed to this channel.
    account_id = models.CharField(max_length=128, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "account_id"], condition=~Q(account_id=""), name="channel_unique_provider_account"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.name}"


class Team(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(max_length=120)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="team_unique_name")]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.AGENT)
    is_active = models.BooleanField(default=True)
    channels = models.ManyToManyField(Channel, blank=True, related_name="members")
    teams = models.ManyToManyField(Team, blank=True, related_name="members")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organization"], name="membership_unique_user_org")]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.role})"


class Contact(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200, blank=True, default="")
    phone = models.CharField(max_length=32, blank=True, default="")
    email = models.EmailField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name or f"Contact {self.pk}"


class ContactIdentity(models.Model):
    """A contact's id on one channel (WhatsApp wa_id, Messenger PSID, TikTok user id)."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="identities")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="identities")
    external_id = models.CharField(max_length=191)
    display_name = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_id"], name="identity_unique_per_channel"),
        ]

    def __str__(self) -> str:
        return f"{self.display_name or self.external_id} on {self.channel_id}"


class Conversation(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", gettext_lazy("Open")
        PENDING = "pending", gettext_lazy("Pending")
        SNOOZED = "snoozed", gettext_lazy("Snoozed")
        RESOLVED = "resolved", gettext_lazy("Resolved")

    class Priority(models.TextChoices):
        NONE = "none", gettext_lazy("None")
        LOW = "low", gettext_lazy("Low")
        MEDIUM = "medium", gettext_lazy("Medium")
        HIGH = "high", gettext_lazy("High")
        URGENT = "urgent", gettext_lazy("Urgent")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="conversations")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="conversations")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="conversations")
    identity = models.ForeignKey(ContactIdentity, on_delete=models.CASCADE, related_name="conversations")
    # The provider's own thread id where replies need it (TikTok conversation_id).
    thread_id = models.CharField(max_length=191, blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    priority = models.CharField(max_length=16, choices=Priority.choices, default=Priority.NONE)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned"
    )
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations")
    snoozed_until = models.DateTimeField(null=True, blank=True)
    last_message_at = models.DateTimeField(default=timezone.now)
    last_message_preview = models.CharField(max_length=160, blank=True, default="")
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    # Business messages sent since the customer last wrote (TikTok allows 10).
    outbound_since_inbound = models.PositiveIntegerField(default=0)
    # Shared count kept for the API's compatibility; per-agent read state is ConversationRead.
    unread_count = models.PositiveIntegerField(default=0)
    # Id of the newest customer message: an agent has unread messages when their ConversationRead is older.
    last_inbound_message_id = models.BigIntegerField(null=True, blank=True)
    # Attribution: where the conversation came from. Set once by the first match, never overwritten.
    referral = models.JSONField(null=True, blank=True)
    tracking_id = models.CharField(max_length=191, blank=True, default="")
    ad_id = models.CharField(max_length=191, blank=True, default="")
    campaign_id = models.CharField(max_length=191, blank=True, default="")
    attributed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # On PostgreSQL the table also has ``label_ids`` (bigint[]), a copy of these links kept by a trigger (migration
    # 0006) for the list's label filters (``filters.CarriesLabel``). Deliberately not a field: Django never writes it.
    labels = models.ManyToManyField("Label", through="ConversationLabel", related_name="conversations", blank=True)

    class Meta:
        constraints = [
            # At most one unresolved conversation per customer identity: new messages join it.
            models.UniqueConstraint(
                fields=["identity"], condition=~Q(status="resolved"), name="conversation_one_active_per_identity"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "status", "-last_message_at", "-id"], name="conv_org_status_recent"),
            models.Index(fields=["channel", "-last_message_at", "-id"], name="conv_channel_recent"),
            models.Index(fields=["assignee", "status"], name="conv_assignee_status"),
            # The list pages: every status, one assignee's, and the snooze sweep.
            models.Index(fields=["organization", "-last_message_at", "-id"], name="conv_org_recent"),
            models.Index(
                fields=["organization", "assignee", "status", "-last_message_at", "-id"],
                name="conv_org_assignee_recent",
            ),
            models.Index(fields=["status", "snoozed_until"], name="conv_status_snoozed_until"),
            # Issue 4 at a million conversations (bench/inbox.py): "mine" (open + pending) in activity order,
            # a channel's or a team's list per status, without scanning the assignee's resolved history.
            models.Index(
                fields=["organization", "assignee", "-last_message_at", "-id"],
                condition=Q(status__in=["open", "pending"]),
                name="conv_assignee_active",
            ),
            models.Index(fields=["channel", "status", "-last_message_at", "-id"], name="conv_channel_status"),
            models.Index(fields=["team", "status", "-last_message_at", "-id"], name="conv_team_status"),
        ]

    def __str__(self) -> str:
        return f"Conversation {self.pk} with {self.contact}"


class Message(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "inbound", gettext_lazy("From the customer")
        OUTBOUND = "outbound", gettext_lazy("From the business")

    class SenderType(models.TextChoices):
        CONTACT = "contact", gettext_lazy("Contact")
        AGENT = "agent", gettext_lazy("Agent")
        AUTOMATION = "automation", gettext_lazy("Automation")
        PROVIDER_ECHO = "echo", gettext_lazy("Sent outside Switchboard")

    class Status(models.TextChoices):
        RECEIVED = "received", gettext_lazy("Received")
        QUEUED = "queued", gettext_lazy("Queued")
        SENT = "sent", gettext_lazy("Sent")
        DELIVERED = "delivered", gettext_lazy("Delivered")
        READ = "read", gettext_lazy("Read")
        FAILED = "failed", gettext_lazy("Failed")

    # Forward order of delivery states: a late "delivered" never undoes "read".
    STATUS_RANK = {"queued": 0, "sent": 1, "delivered": 2, "read": 3, "failed": 4, "received": 0}

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=10, choices=Direction.choices)
    sender_type = models.CharField(max_length=12, choices=SenderType.choices)
    sender_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=20, default="text")
    body = models.TextField(blank=True, default="")
    attachments = models.JSONField(default=list, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    external_id = models.CharField(max_length=191, null=True, blank=True)
    reply_to_external_id = models.CharField(max_length=191, blank=True, default="")
    status = models.CharField(max_length=12, choices=Status.choices)
    error_reason = models.CharField(max_length=500, blank=True, default="")
    send_attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)  # provider time for inbound, send time for outbound
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"],
                condition=Q(external_id__isnull=False),
                name="message_unique_external_id_per_channel",
            ),
            models.CheckConstraint(
                condition=Q(direction="inbound", status="received") | Q(direction="outbound") & ~Q(status="received"),
                name="message_status_matches_direction",
            ),
        ]
        indexes = [
            models.Index(fields=["conversation", "id"], name="message_conversation_order"),
            models.Index(fields=["status", "created_at"], name="message_status_created"),
            # Per-agent unread counts on the list: customer messages after a read marker, from the index alone.
            models.Index(fields=["conversation", "id"], condition=Q(direction="inbound"), name="message_inbound_order"),
        ]

    def __str__(self) -> str:
        return f"Message {self.pk} ({self.direction}, {self.status})"


def reply_window_left(conversation: Conversation, window: timedelta | None) -> timedelta | None:
    """Time left to answer freely on a channel with a reply window, None when there is no window."""
    if window is None:
        return None
    if conversation.last_inbound_at is None:
        return timedelta(0)
    return max(timedelta(0), conversation.last_inbound_at + window - timezone.now())


# --- The agent's workspace: labels, notes, notifications, canned replies, saved views, read state, live log ---


class Label(models.Model):
    """An organization-wide tag on conversations, managed by admins."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="labels")
    name = models.CharField(max_length=60)
    colour = models.CharField(max_length=7, default="#6b7280")  # "#rrggbb"
    description = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("name"), "organization", name="label_unique_name_per_org"),
            models.CheckConstraint(condition=Q(colour__regex=r"^#[0-9a-fA-F]{6}$"), name="label_colour_hex"),
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ConversationLabel(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="label_links")
    label = models.ForeignKey(Label, on_delete=models.CASCADE, related_name="conversation_links")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation", "label"], name="conversation_label_unique"),
        ]
        # "labels any/all/none" filters probe by label then conversation.
        indexes = [models.Index(fields=["label", "conversation"], name="conversation_label_by_label")]


class Note(models.Model):
    """A private note in a conversation's thread: seen by the team, never sent to the customer."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField()
    # ``{"automation": {"rule_id", "rule_name", "version"}}`` when a rule wrote the note (it then has no author),
    # as on automated messages, so the thread can name the rule.
    metadata = models.JSONField(default=dict, blank=True)
    mentions = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="mentioned_in_notes")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["conversation", "id"], name="note_conversation_order")]


class Notification(models.Model):
    class Kind(models.TextChoices):
        MENTION = "mention", gettext_lazy("Mentioned in a note")
        ASSIGNED = "assigned", gettext_lazy("Assigned to you")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="inbox_notifications")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    note = models.ForeignKey(Note, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["user", "read_at", "-id"], name="notification_user_unread")]


class CannedReply(models.Model):
    """A prepared answer typed as ``/short_code`` in the composer, with ``{{contact.name}}``-style variables."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="canned_replies")
    short_code = models.SlugField(max_length=40)
    body = models.TextField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "short_code"], name="canned_reply_unique_code"),
        ]
        ordering = ["short_code"]

    def __str__(self) -> str:
        return f"/{self.short_code}"


class SavedView(models.Model):
    """A named filter (inbox.filters document): personal, or shared with a team."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="saved_views")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(max_length=80)
    filters = models.JSONField(default=dict)
    shared_with_team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="saved_views"
    )
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["organization", "owner"], name="saved_view_owner")]

    def __str__(self) -> str:
        return self.name


class ConversationRead(models.Model):
    """How far one agent has read one conversation (per-agent unread state)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="reads")
    last_read_message_id = models.BigIntegerField(default=0)
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation", "user"], name="conversation_read_unique"),
        ]


class InboxEvent(models.Model):
    """The live log: what was broadcast to browsers, kept for a while so a reconnecting browser catches up.

    ``id`` is the sequence number browsers see: increasing within an organization (with gaps, since ids are
    shared). ``channel_id`` scopes it like the broadcast group; ``user_id`` marks a personal event.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=40)
    channel_id = models.BigIntegerField(null=True, blank=True)
    user_id = models.BigIntegerField(null=True, blank=True)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["organization", "id"], name="inbox_event_org_seq")]
