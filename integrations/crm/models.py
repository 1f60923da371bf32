"""CRM rows: the HubSpot connection and its mappings, the id mapping table, and the sync outbox (which is also the
sync log). Signed webhooks for any other CRM are subscriptions of kind ``crm`` of the one outbound-webhook
mechanism (``integrations.connections``).

Invariants live in the database: one waiting sync item per object (later events update it instead of piling up),
one link per local object, so concurrent workers cannot create duplicates on our side.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

from inbox.models import Organization
from switchboard.crypto import decrypt_json, encrypt_json

#: Switchboard contact fields an admin can map to HubSpot contact properties (blank property: not sent).
CONTACT_FIELDS: dict[str, str] = {
    "first_name": "First name",
    "last_name": "Last name",
    "email": "Email",
    "phone": "Phone (E.164)",
    "channels": "Channels the contact wrote on",
    "contact_url": "Link to the contact in Switchboard",
    "switchboard_id": "Switchboard contact id",
}
DEFAULT_FIELD_MAPPING: dict[str, str] = {
    "first_name": "firstname",
    "last_name": "lastname",
    "email": "email",
    "phone": "phone",
    "channels": "",
    "contact_url": "",
    "switchboard_id": "",
}
#: When a contact reaches a lifecycle stage: new contact pushed, order paid. Blank: leave HubSpot's stage alone.
LIFECYCLE_MOMENTS: dict[str, str] = {"new_contact": "A new contact is created", "order_paid": "An order is paid"}
DEFAULT_LIFECYCLE_MAPPING: dict[str, str] = {"new_contact": "lead", "order_paid": "customer"}
#: Order statuses of ``inbox.commerce`` mapped to stages of HubSpot's default sales pipeline.
DEFAULT_DEAL_STAGE_MAPPING: dict[str, str] = {
    "draft": "appointmentscheduled",
    "awaiting_payment": "contractsent",
    "paid": "closedwon",
    "fulfilled": "closedwon",
    "cancelled": "closedlost",
    "refunded": "closedlost",
}


def _default_field_mapping() -> dict[str, str]:
    return dict(DEFAULT_FIELD_MAPPING)


def _default_lifecycle_mapping() -> dict[str, str]:
    return dict(DEFAULT_LIFECYCLE_MAPPING)


def _default_deal_stage_mapping() -> dict[str, str]:
    return dict(DEFAULT_DEAL_STAGE_MAPPING)


class HubSpotConnection(models.Model):
    """An organization's HubSpot portal: credentials (encrypted), scopes, and the admin's mappings.

    The row outlives a disconnect so the mappings are kept; ``status`` says whether syncing happens.
    """

    class Status(models.TextChoices):
        CONNECTED = "connected", gettext_lazy("Connected")
        NEEDS_REAUTHORIZATION = "needs_reauthorization", gettext_lazy("Needs reauthorization")
        DISCONNECTED = "disconnected", gettext_lazy("Disconnected")

    class AuthKind(models.TextChoices):
        PRIVATE_APP = "private_app", gettext_lazy("Private app token")
        OAUTH = "oauth", gettext_lazy("OAuth")

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="hubspot")
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.DISCONNECTED)
    auth_kind = models.CharField(max_length=16, choices=AuthKind.choices, default=AuthKind.PRIVATE_APP)
    encrypted = models.TextField(blank=True, default="")  # {"access_token", "refresh_token", "expires_at"}
    token_hint = models.CharField(max_length=24, blank=True, default="")  # masked, for the settings page
    portal_id = models.CharField(max_length=32, blank=True, default="")
    scopes = models.JSONField(default=list, blank=True)
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    connected_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")

    field_mapping = models.JSONField(default=_default_field_mapping, blank=True)
    lifecycle_mapping = models.JSONField(default=_default_lifecycle_mapping, blank=True)
    deal_stage_mapping = models.JSONField(default=_default_deal_stage_mapping, blank=True)
    deal_pipeline = models.CharField(max_length=64, default="default")
    # A unique single-line text property holding the E.164 phone, used as the upsert key for contacts without
    # an email. Blank: such contacts are created once and then updated through their link.
    phone_id_property = models.CharField(max_length=100, blank=True, default="")
    include_transcript = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"HubSpot {self.portal_id or '-'} for {self.organization_id} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.CONNECTED

    def store_credentials(self, **values: Any) -> None:
        self.encrypted = encrypt_json({k: v for k, v in values.items() if v is not None})

    def credentials(self) -> dict[str, Any]:
        return decrypt_json(self.encrypted)

    @property
    def limiter_key(self) -> str:
        """HubSpot limits per app and portal: one limiter bucket per portal (the organization before it is known)."""
        return f"portal-{self.portal_id}" if self.portal_id else f"org-{self.organization_id}"


class CrmLink(models.Model):
    """Which HubSpot record a local object is: the source of truth that prevents duplicates.

    Search in HubSpot is eventually consistent; a link is not. Only objects without a link are searched for.
    """

    class ObjectType(models.TextChoices):
        CONTACT = "contact", gettext_lazy("Contact")
        DEAL = "deal", gettext_lazy("Deal")
        MEETING = "meeting", gettext_lazy("Meeting")
        NOTE = "note", gettext_lazy("Note")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    object_type = models.CharField(max_length=16, choices=ObjectType.choices)
    local_id = models.CharField(max_length=64)
    hubspot_id = models.CharField(max_length=64)
    # What was last pushed (a hash of the properties): an unchanged contact is not sent again.
    pushed_fingerprint = models.CharField(max_length=64, blank=True, default="")
    # What was pulled (owner, lifecycle stage), for the conversation sidebar.
    remote = models.JSONField(default=dict, blank=True)
    pulled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "object_type", "local_id"], name="crmlink_unique_local"),
        ]
        indexes = [models.Index(fields=["object_type", "pulled_at"], name="crmlink_pull_due")]

    def __str__(self) -> str:
        return f"{self.object_type} {self.local_id} -> HubSpot {self.hubspot_id}"


class CrmSyncItem(models.Model):
    """One thing to send to HubSpot: written in the transaction of the change (outbox), then kept as the sync log.

    ``request``/``response``/``error`` hold what the last attempt sent and got back. ``payload`` is the event's
    snapshot for objects this app cannot read itself (orders, reservations).
    """

    class Operation(models.TextChoices):
        CONTACT_UPSERT = "contact.upsert", gettext_lazy("Contact upsert")
        DEAL_UPSERT = "deal.upsert", gettext_lazy("Deal from order")
        MEETING_UPSERT = "meeting.upsert", gettext_lazy("Meeting from reservation")
        NOTE_CREATE = "note.create", gettext_lazy("Note for a resolved conversation")

    class Status(models.TextChoices):
        PENDING = "pending", gettext_lazy("Pending")
        SENDING = "sending", gettext_lazy("Sending")
        SUCCEEDED = "succeeded", gettext_lazy("Succeeded")
        RETRYING = "retrying", gettext_lazy("Failed, will retry")
        DEAD = "dead", gettext_lazy("Failed")
        SKIPPED = "skipped", gettext_lazy("Skipped")

    WAITING = (Status.PENDING, Status.RETRYING)

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    operation = models.CharField(max_length=20, choices=Operation.choices)
    object_id = models.CharField(max_length=64)
    contact_id = models.BigIntegerField(null=True, blank=True)
    event = models.CharField(max_length=40, blank=True, default="")
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True)
    request = models.JSONField(null=True, blank=True)
    response = models.JSONField(null=True, blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    hubspot_id = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # One waiting item per object: a second event for it updates the waiting item instead.
            models.UniqueConstraint(
                fields=["organization", "operation", "object_id"],
                condition=Q(status__in=["pending", "retrying"]),
                name="crmsync_one_waiting_per_object",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="crmsync_due"),
            models.Index(fields=["organization", "-created_at"], name="crmsync_org_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.operation} {self.object_id} ({self.status})"
