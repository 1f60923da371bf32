"""Data lifecycle (issue 11): per-organization retention settings, retention runs, and contact erasures."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inbox.models import Organization


class RetentionPolicy(models.Model):
    """How long an organization keeps what it no longer needs. An empty number of days keeps for ever."""

    class ConversationAction(models.TextChoices):
        DELETE = "delete", _("Delete them")
        ANONYMISE = "anonymise", _("Keep them, with messages and notes replaced by a tombstone")

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="retention_policy")
    resolved_conversations_days = models.PositiveIntegerField(null=True, blank=True)
    conversation_action = models.CharField(
        max_length=12, choices=ConversationAction.choices, default=ConversationAction.ANONYMISE
    )
    webhook_bodies_days = models.PositiveIntegerField(null=True, blank=True, default=30)
    signal_outbox_days = models.PositiveIntegerField(null=True, blank=True, default=90)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"retention of {self.organization_id}"


class RetentionRun(models.Model):
    """One pass of the daily retention task over one organization, with its progress as it goes."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        PARTIAL = "partial", _("Stopped at its time budget; continues next run")
        FAILED = "failed", _("Failed")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="retention_runs")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RUNNING)
    counts = models.JSONField(default=dict, blank=True)  # what was removed so far, per kind
    batches = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "-started_at"], name="retention_run_org_recent")]

    def __str__(self) -> str:
        return f"retention run {self.pk} ({self.status})"


class ContactErasure(models.Model):
    """A contact erased on request. Holds no personal data: the contact's id and what was removed, per table."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="contact_erasures")
    contact_id = models.BigIntegerField()
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    counts = models.JSONField(default=dict, blank=True)
    erased_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "contact_id"], name="contact_erased_once"),
        ]

    def __str__(self) -> str:
        return f"contact {self.contact_id} erased"
