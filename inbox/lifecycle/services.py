"""Data lifecycle (issue 11): erase a contact on request, and apply each organization's retention settings.

Erasure replaces what a contact said and who they are with a tombstone everywhere Switchboard stored it, in one
transaction: messages, attachments' metadata and notes of their conversations, their identities, phone and email,
the raw webhook bodies that carried them (kept as empty, processed rows so that neither a replay nor a provider's
retry of the same body brings them back), outboxes and logs that copied them (CRM sync items, subscribed
webhooks, the live catch-up log), and signal history (only the hashed user ids that were sent remain). Orders and
reservations are kept, with an anonymous customer. What providers (TikTok, WhatsApp, Messenger, HubSpot) hold is
theirs, not ours: the customer asks them.

Retention runs in small batches, each its own short transaction, so the inbox is never locked for long.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from inbox.access.services.audit import audit_record
from inbox.commerce.models import Order, Reservation
from inbox.lifecycle.models import ContactErasure, RetentionPolicy, RetentionRun
from inbox.models import Contact, ContactIdentity, Conversation, Message, Note, Organization
from integrations.models import InboundWebhook, SandboxMessage
from signals.models import SignalDelivery, SignalEvent

TOMBSTONE = "[erased]"
CONFIRMATION_WORD = "ERASE"
# Needles shorter than this (a reply "ok") only match a whole string, never a part of one.
_MIN_PARTIAL_NEEDLE = 8

# Tables scrubbed by hand below: the generic scan skips them.
_HANDLED = {
    "inbox.Contact",
    "inbox.ContactIdentity",
    "inbox.Conversation",
    "inbox.Message",
    "inbox.Note",
    "integrations.InboundWebhook",
    "integrations.SandboxMessage",
    "lifecycle.ContactErasure",
    "lifecycle.RetentionPolicy",
    "lifecycle.RetentionRun",
}
# Outboxes and logs that only copied data to send it or to replay it live: a row about the contact goes.
_DELETE_ON_MATCH = {"inbox.InboxEvent", "crm.CrmSyncItem", "crm.WebhookDelivery", "connections.WebhookDelivery"}
# Apps whose tables may hold what customers said or who they are (Django's own and the OAuth provider's do not).
_SCANNED_APPS = {"inbox", "integrations", "signals", "connections", "automation", "commerce", "crm", "access"}


class ErasureError(Exception):
    """The erasure was refused (no confirmation, already erased): nothing changed."""


# --- erasure ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Needles:
    """The contact's personal values to look for: ``partial`` anywhere in a string, ``whole`` as a whole one."""

    partial: tuple[str, ...]
    whole: frozenset[str]

    def scrub(self, value: str) -> str:
        if value in self.whole:
            return TOMBSTONE
        for needle in self.partial:
            if needle in value:
                value = value.replace(needle, TOMBSTONE)
        return value

    def scrub_json(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, list):
            return [self.scrub_json(item) for item in value]
        if isinstance(value, dict):
            return {key: self.scrub_json(item) for key, item in value.items()}
        return value

    def as_bytes(self) -> tuple[bytes, ...]:
        return tuple(n.encode() for n in self.partial)


def _needles(contact: Contact, conversation_ids: list[int]) -> _Needles:
    values: set[str] = {contact.name, contact.phone, contact.email}
    digits = "".join(ch for ch in contact.phone if ch.isdigit())
    values.add(digits)  # WhatsApp writes numbers without the "+"
    for external_id, display_name in ContactIdentity.objects.filter(contact=contact).values_list(
        "external_id", "display_name"
    ):
        values.update((external_id, display_name))
    # Ad click and tracking ids tie the person to an ad click: they go with the rest (SignalEvent keeps hashes).
    for referral, tracking_id in Conversation.objects.filter(pk__in=conversation_ids).values_list(
        "referral", "tracking_id"
    ):
        values.add(tracking_id)
        if isinstance(referral, dict):
            # Not the ad's own ids: every customer of that ad shares them.
            values.update(
                v
                for k, v in referral.items()
                if isinstance(v, str) and len(v) >= 8 and not any(w in k for w in ("ad", "campaign", "source"))
            )
    values.update(SignalEvent.objects.filter(conversation_id__in=conversation_ids).values_list("ttclid", flat=True))
    whole: set[str] = set()
    messages = Message.objects.filter(conversation_id__in=conversation_ids)
    for body, external_id, attachments in messages.values_list("body", "external_id", "attachments").iterator(
        chunk_size=1000
    ):
        values.add(external_id or "")
        (values if len(body) >= _MIN_PARTIAL_NEEDLE else whole).add(body)
        for attachment in attachments or []:
            if isinstance(attachment, dict):
                values.update(str(v) for v in attachment.values() if isinstance(v, str) and len(v) >= 12)
    for body in Note.objects.filter(conversation_id__in=conversation_ids).values_list("body", flat=True):
        (values if len(body) >= _MIN_PARTIAL_NEEDLE else whole).add(body)
    partial = {v for v in values if len(v) >= 4}
    whole.update(v for v in values if 0 < len(v) < 4)
    whole.discard("")
    # Longest first, so a name is not half-replaced by a shorter needle inside it.
    return _Needles(partial=tuple(sorted(partial, key=len, reverse=True)), whole=frozenset(whole))


def _organization_path(model: type[models.Model], depth: int = 3) -> str | None:
    """The lookup from ``model`` to its organization (``organization``, ``order__organization``, ...)."""
    frontier: list[tuple[type[models.Model], str]] = [(model, "")]
    for _level in range(depth):
        next_frontier = []
        for current, prefix in frontier:
            for field in current._meta.concrete_fields:
                if not field.many_to_one or field.related_model is None:
                    continue
                path = f"{prefix}{field.name}"
                if field.related_model is Organization:
                    return path
                next_frontier.append((field.related_model, f"{path}__"))
        frontier = next_frontier
    return None


def _text_fields(model: type[models.Model]) -> list[models.Field]:
    return [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField | models.JSONField) and not f.choices
    ]


def _scan_other_tables(contact: Contact, needles: _Needles, counts: dict[str, int]) -> None:
    """Every other table of the organization that may have copied the contact's data, since the contact exists."""
    since = contact.created_at - timedelta(days=1)
    for model in apps.get_models():
        label = model._meta.label
        if model._meta.app_label not in _SCANNED_APPS or label in _HANDLED:
            continue
        fields = _text_fields(model)
        path = _organization_path(model)
        if not fields or path is None:
            continue
        rows = model._default_manager.filter(**{path: contact.organization_id})
        if any(f.name == "created_at" for f in model._meta.concrete_fields):
            rows = rows.filter(created_at__gte=since)
        names = [f.name for f in fields]
        doomed: list[Any] = []
        for row in rows.only("pk", *names).iterator(chunk_size=500):
            changed: dict[str, Any] = {}
            for field in fields:
                value = getattr(row, field.name)
                if value in (None, "", [], {}):
                    continue
                scrubbed = needles.scrub_json(value) if isinstance(field, models.JSONField) else needles.scrub(value)
                if scrubbed != value:
                    changed[field.name] = scrubbed
            if changed and label in _DELETE_ON_MATCH:
                doomed.append(row.pk)
            elif changed:
                # update(), not save(): no signal fires, so nothing syncs the tombstones to a CRM.
                model._default_manager.filter(pk=row.pk).update(**changed)
                counts[label] = counts.get(label, 0) + 1
        if doomed:
            model._default_manager.filter(pk__in=doomed).delete()
            counts[label] = counts.get(label, 0) + len(doomed)


def _erase_webhooks(contact: Contact, needles: _Needles, channel_ids: list[int]) -> int:
    """Empty the stored raw deliveries that carried the contact; keep the row so a retry of it stays a duplicate."""
    since = contact.created_at - timedelta(days=1)
    candidates = InboundWebhook.objects.filter(
        Q(channel_id__in=channel_ids) | Q(channel__isnull=True, routed_channels__in=channel_ids),
        received_at__gte=since,
    ).distinct()
    wanted = needles.as_bytes()
    hits = [
        pk
        for pk, body in candidates.values_list("pk", "body").iterator(chunk_size=200)
        if any(needle in bytes(body) for needle in wanted)
    ]
    InboundWebhook.objects.filter(pk__in=hits).update(
        body=b"",
        headers={},
        error="",
        notes=[{"erased": True}],
        status=InboundWebhook.Status.PROCESSED,
    )
    return len(hits)


def erasure_preview(contact: Contact) -> dict[str, int]:
    """What an erasure of this contact would touch (for the confirmation page)."""
    conversations = Conversation.objects.filter(contact=contact)
    return {
        "conversations": conversations.count(),
        "messages": Message.objects.filter(conversation__contact=contact).count(),
        "notes": Note.objects.filter(conversation__contact=contact).count(),
        "orders": Order.objects.filter(contact=contact).count(),
        "reservations": Reservation.objects.filter(contact=contact).count(),
    }


def contact_is_erased(contact: Contact) -> bool:
    return ContactErasure.objects.filter(organization_id=contact.organization_id, contact_id=contact.pk).exists()


def contact_erase(*, contact: Contact, actor: Any, confirmation: str, ip: str | None = None) -> ContactErasure:
    """Erase ``contact`` for good. ``confirmation`` must be the word ``ERASE``: this cannot be undone."""
    if confirmation.strip() != CONFIRMATION_WORD:
        raise ErasureError(_("Type %(word)s to confirm: an erasure cannot be undone.") % {"word": CONFIRMATION_WORD})
    with transaction.atomic():
        contact = Contact.objects.select_for_update().get(pk=contact.pk)
        if contact_is_erased(contact):
            raise ErasureError(_("This contact was already erased."))
        conversations = Conversation.objects.filter(contact=contact)
        conversation_ids = list(conversations.values_list("pk", flat=True))
        channel_ids = sorted(
            set(ContactIdentity.objects.filter(contact=contact).values_list("channel_id", flat=True))
            | set(conversations.values_list("channel_id", flat=True))
        )
        identities = ContactIdentity.objects.filter(contact=contact)
        identity_external_ids = list(identities.values_list("external_id", flat=True))
        needles = _needles(contact, conversation_ids)
        counts: dict[str, int] = {}

        messages = Message.objects.filter(conversation_id__in=conversation_ids)
        counts["messages"] = messages.update(body=TOMBSTONE, metadata={}, error_reason="")
        messages.exclude(attachments=[]).update(attachments=[{"erased": True}])
        counts["notes"] = Note.objects.filter(conversation_id__in=conversation_ids).update(body=TOMBSTONE)
        counts["conversations"] = conversations.update(last_message_preview=TOMBSTONE, referral=None, tracking_id="")
        for identity in ContactIdentity.objects.filter(contact=contact):
            ContactIdentity.objects.filter(pk=identity.pk).update(external_id=f"erased-{identity.pk}", display_name="")
        counts["identities"] = len(identity_external_ids)
        Contact.objects.filter(pk=contact.pk).update(name="", phone="", email="")
        counts["orders"] = Order.objects.filter(contact=contact).update(
            shipping_name="", shipping_address="", shipping_phone=""
        )
        Order.objects.filter(contact=contact).exclude(notes="").update(notes=TOMBSTONE)
        counts["reservations"] = Reservation.objects.filter(contact=contact).exclude(notes="").update(notes=TOMBSTONE)
        # Signal history keeps only the hashed ids that were already sent; the click and tracking ids go.
        counts["signal_events"] = SignalEvent.objects.filter(conversation_id__in=conversation_ids).update(
            ttclid="", tracking_id=""
        )
        counts["webhooks"] = _erase_webhooks(contact, needles, channel_ids)
        counts["sandbox_messages"] = SandboxMessage.objects.filter(
            channel_id__in=channel_ids, customer_id__in=identity_external_ids
        ).delete()[0]
        _scan_other_tables(contact, needles, counts)

        erasure = ContactErasure.objects.create(
            organization_id=contact.organization_id, contact_id=contact.pk, erased_by=actor, counts=counts
        )
        audit_record(
            organization_id=contact.organization_id,
            actor=actor,
            action="contact.erased",
            target_type="contact",
            target_id=contact.pk,
            target_label=f"#{contact.pk}",
            details={"counts": counts},
            ip=ip,
        )
    return erasure


# --- retention ----------------------------------------------------------------------------------------------


def policy_for(organization: Organization) -> RetentionPolicy:
    policy, _created = RetentionPolicy.objects.get_or_create(organization=organization)
    return policy


def policy_update(*, organization: Organization, actor: Any, ip: str | None = None, **values: Any) -> RetentionPolicy:
    with transaction.atomic():
        policy = RetentionPolicy.objects.select_for_update().get(pk=policy_for(organization).pk)
        for name, value in values.items():
            setattr(policy, name, value)
        policy.updated_at, policy.updated_by = timezone.now(), actor
        policy.save()
        audit_record(
            organization_id=organization.pk,
            actor=actor,
            action="retention.updated",
            target_type="retention",
            target_id=organization.pk,
            details={k: v for k, v in values.items()},
            ip=ip,
        )
    return policy


def _cutoff(days: int | None, now: Any) -> Any | None:
    return None if days is None else now - timedelta(days=days)


def _old_conversations(policy: RetentionPolicy, now: Any) -> QuerySet[Conversation] | None:
    cutoff = _cutoff(policy.resolved_conversations_days, now)
    if cutoff is None:
        return None
    return Conversation.objects.filter(
        organization_id=policy.organization_id, status=Conversation.Status.RESOLVED, last_message_at__lt=cutoff
    ).exclude(last_message_preview=TOMBSTONE)  # anonymised already


def _deletable(conversations: QuerySet[Conversation]) -> QuerySet[Conversation]:
    """Orders and reservations keep their conversation (their history points at it): those are anonymised."""
    return conversations.filter(orders__isnull=True, reservations__isnull=True)


def _old_webhooks(policy: RetentionPolicy, now: Any) -> QuerySet[InboundWebhook] | None:
    cutoff = _cutoff(policy.webhook_bodies_days, now)
    if cutoff is None:
        return None
    organization_id = policy.organization_id
    # Only processed ones: a failed delivery waits for an operator, whatever its age.
    return InboundWebhook.objects.filter(status=InboundWebhook.Status.PROCESSED, received_at__lt=cutoff).filter(
        Q(channel__organization_id=organization_id)
        | Q(channel__isnull=True, routed_channels__organization_id=organization_id)
    )


def _old_signal_events(policy: RetentionPolicy, now: Any) -> QuerySet[SignalEvent] | None:
    cutoff = _cutoff(policy.signal_outbox_days, now)
    if cutoff is None:
        return None
    return SignalEvent.objects.filter(
        organization_id=policy.organization_id,
        status__in=[SignalEvent.Status.DELIVERED, SignalEvent.Status.DEAD],
        created_at__lt=cutoff,
    )


def _old_signal_deliveries(policy: RetentionPolicy, now: Any) -> QuerySet[SignalDelivery] | None:
    cutoff = _cutoff(policy.signal_outbox_days, now)
    if cutoff is None:
        return None
    return SignalDelivery.objects.filter(
        advertiser_account__organization_id=policy.organization_id, created_at__lt=cutoff
    )


def retention_preview(organization: Organization, now: Any = None) -> dict[str, int | None]:
    """A dry run: how many rows the next run would delete or anonymise (``None``: kept for ever)."""
    now = now or timezone.now()
    policy = policy_for(organization)
    conversations = _old_conversations(policy, now)
    webhooks = _old_webhooks(policy, now)
    events = _old_signal_events(policy, now)
    deliveries = _old_signal_deliveries(policy, now)
    deleting = policy.conversation_action == RetentionPolicy.ConversationAction.DELETE
    result: dict[str, int | None] = {
        "conversations_deleted": None,
        "conversations_anonymised": None,
        "webhooks_deleted": None if webhooks is None else webhooks.values("pk").distinct().count(),
        "signal_events_deleted": None if events is None else events.count(),
        "signal_deliveries_deleted": None if deliveries is None else deliveries.count(),
    }
    if conversations is not None:
        total = conversations.count()
        deletable = _deletable(conversations).count() if deleting else 0
        result["conversations_deleted"] = deletable
        result["conversations_anonymised"] = total - deletable
    return result


def _batch_ids(queryset: QuerySet, size: int) -> list[int]:
    # Unordered: the planner may then read the filter's index instead of walking the primary key.
    return list(queryset.order_by().values_list("pk", flat=True).distinct()[:size])


def _delete_conversations(ids: list[int], size: int) -> None:
    # Messages first, a chunk at a time: one conversation may hold thousands.
    while True:
        with transaction.atomic():
            message_ids = list(Message.objects.filter(conversation_id__in=ids).values_list("pk", flat=True)[:size])
            if not message_ids:
                break
            Message.objects.filter(pk__in=message_ids).delete()
    with transaction.atomic():
        Conversation.objects.filter(pk__in=ids).delete()


def _anonymise_conversations(ids: list[int]) -> None:
    with transaction.atomic():
        messages = Message.objects.filter(conversation_id__in=ids)
        messages.update(body=TOMBSTONE, metadata={})
        messages.exclude(attachments=[]).update(attachments=[{"erased": True}])
        Note.objects.filter(conversation_id__in=ids).update(body=TOMBSTONE)
        Conversation.objects.filter(pk__in=ids).update(last_message_preview=TOMBSTONE, referral=None)


def retention_apply(
    organization: Organization,
    *,
    batch_size: int | None = None,
    time_budget: float | None = None,
    now: Any = None,
) -> RetentionRun:
    """Apply the organization's retention in batches of ``batch_size`` rows, each in its own short transaction.

    The run's ``counts`` and ``batches`` are saved after every batch (the settings page shows the progress). Past
    ``time_budget`` seconds the run stops as ``partial``; the next run goes on where this one stopped.
    """
    size = batch_size or getattr(settings, "LIFECYCLE_BATCH_SIZE", 500)
    budget = time_budget if time_budget is not None else getattr(settings, "LIFECYCLE_TIME_BUDGET_SECONDS", 600)
    now = now or timezone.now()
    policy = policy_for(organization)
    run = RetentionRun.objects.create(organization=organization)
    started = time.monotonic()
    deleting = policy.conversation_action == RetentionPolicy.ConversationAction.DELETE

    def steps() -> Iterable[tuple[str, QuerySet | None, Any]]:
        conversations = _old_conversations(policy, now)
        if conversations is not None and deleting:
            yield "conversations_deleted", _deletable(conversations), lambda ids: _delete_conversations(ids, size)
        if conversations is not None:
            yield "conversations_anonymised", _old_conversations(policy, now), _anonymise_conversations
        yield "webhooks_deleted", _old_webhooks(policy, now), _delete_rows(InboundWebhook)
        yield "signal_events_deleted", _old_signal_events(policy, now), _delete_rows(SignalEvent)
        yield "signal_deliveries_deleted", _old_signal_deliveries(policy, now), _delete_rows(SignalDelivery)

    try:
        for name, queryset, apply in steps():
            if queryset is None:
                continue
            while True:
                if time.monotonic() - started > budget:
                    run.status = RetentionRun.Status.PARTIAL
                    break
                ids = _batch_ids(queryset, size)
                if not ids:
                    break
                apply(ids)
                run.counts[name] = run.counts.get(name, 0) + len(ids)
                run.batches += 1
                run.save(update_fields=["counts", "batches"])
            if run.status == RetentionRun.Status.PARTIAL:
                break
    except Exception:
        run.status, run.finished_at = RetentionRun.Status.FAILED, timezone.now()
        run.save(update_fields=["status", "finished_at"])
        raise
    if run.status == RetentionRun.Status.RUNNING:
        run.status = RetentionRun.Status.DONE
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "finished_at"])
    return run


def _delete_rows(model: type[models.Model]) -> Any:
    def delete(ids: list[int]) -> None:
        with transaction.atomic():
            model._default_manager.filter(pk__in=ids).delete()

    return delete


def organizations_with_retention() -> QuerySet[Organization]:
    return Organization.objects.filter(retention_policy__isnull=False)
