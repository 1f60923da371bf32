"""Auto-reply rules, their immutable versions, the log of what they did, and business hours.

Editing a rule never rewrites history: every edit stores a new :class:`RuleVersion`, the rule points at its
current one, and every :class:`RuleRun` names the version that fired.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

from inbox.models import Conversation, Message, Organization


class Trigger(models.TextChoices):
    GREETING = "greeting", gettext_lazy("New conversation (greeting)")
    MESSAGE = "message", gettext_lazy("Any message received")
    KEYWORD = "keyword", gettext_lazy("Keyword match")
    AWAY = "away", gettext_lazy("Outside business hours (away message)")
    NO_REPLY = "no_reply", gettext_lazy("No agent reply within N minutes")
    LABELLED = "labelled", gettext_lazy("Conversation labelled")


class KeywordMode(models.TextChoices):
    CONTAINS = "contains", gettext_lazy("Contains the phrase")
    WORD = "word", gettext_lazy("Whole word or phrase")
    STARTS = "starts", gettext_lazy("Message starts with")
    EXACT = "exact", gettext_lazy("Exact message")
    REGEX = "regex", gettext_lazy("Regular expression")


class AutoReplyRule(models.Model):
    """The stable identity of a rule: its place in the order and its switches. What it does is in its version."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="auto_reply_rules")
    name = models.CharField(max_length=120)
    enabled = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)
    stop_after_match = models.BooleanField(default=True)
    once_per_conversation = models.BooleanField(default=False)
    cooldown_minutes = models.PositiveIntegerField(default=0)
    current_version = models.ForeignKey(
        "RuleVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Where round-robin assignment continues: the user id assigned last by this rule.
    assign_cursor = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["organization", "position", "id"], name="autorule_org_order")]

    def __str__(self) -> str:
        return self.name


class RuleVersion(models.Model):
    """An immutable snapshot of what a rule matches and does. Never updated after it is created."""

    rule = models.ForeignKey(AutoReplyRule, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    keyword_mode = models.CharField(max_length=10, choices=KeywordMode.choices, default=KeywordMode.WORD)
    keywords = models.JSONField(default=list, blank=True)
    negative_keywords = models.JSONField(default=list, blank=True)
    # {"channel_ids": [...], "channel_kinds": [...], "labels_any": [...], "statuses": [...], "assigned": bool,
    #  "contact": "new"|"returning", "tracking_id": bool, "business_hours": "open"|"closed", "days": [0-6],
    #  "time_from": "HH:MM", "time_to": "HH:MM"}; see inbox.automation.conditions.
    conditions = models.JSONField(default=dict, blank=True)
    # [{"type": "send_reply", "text": "..."}, ...]; see inbox.automation.actions.
    actions = models.JSONField(default=list, blank=True)
    # Trigger parameters: {"minutes": 15} for no_reply, {"labels": ["vip"]} for labelled.
    trigger_options = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "number"], name="ruleversion_unique_number")]

    def __str__(self) -> str:
        return f"{self.rule} v{self.number}"


class RuleRun(models.Model):
    """One firing of one rule version: what matched and what each action did (done / failed / unavailable).

    ``dedupe_key`` (``m:<message id>`` for message triggers) makes evaluation idempotent per version and event.
    """

    rule = models.ForeignKey(AutoReplyRule, on_delete=models.CASCADE, related_name="runs")
    version = models.ForeignKey(RuleVersion, on_delete=models.CASCADE, related_name="runs")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="automation_runs")
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    dedupe_key = models.CharField(max_length=191)
    matched = models.JSONField(default=list, blank=True)
    actions = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["version", "dedupe_key"], name="rulerun_once_per_version_event"),
        ]
        indexes = [
            models.Index(fields=["rule", "conversation", "-created_at"], name="rulerun_rule_conv_recent"),
            models.Index(fields=["rule", "created_at"], name="rulerun_rule_created"),
        ]

    def __str__(self) -> str:
        return f"{self.version} on conversation {self.conversation_id}"


class BusinessHours(models.Model):
    """Weekly opening hours and holidays, read in the organization's time zone (``Organization.time_zone``).

    ``weekly``: ``{"0": [["09:00", "18:00"]], ..., "6": []}`` (0 = Monday); ``holidays``: ``["2026-12-25"]``.
    """

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="business_hours")
    weekly = models.JSONField(default=dict, blank=True)
    holidays = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Business hours of {self.organization}"


class RuleSetState(models.Model):
    """A counter bumped in the transaction of every rule change: the compiled matcher's version stamp."""

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="+")
    version = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(version__gte=0), name="rulesetstate_version_positive")]
