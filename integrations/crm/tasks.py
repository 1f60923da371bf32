"""Celery entry points of the CRM app: thin, ids in, services called. Named ``crm.*``, routed to the
``integrations`` queue (``CELERY_TASK_ROUTES``)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.db.models import Min
from django.utils import timezone

from integrations.crm.models import CrmSyncItem, HubSpotConnection
from integrations.crm.services import pull, sync

#: A retry due later than this is left to the beat sweep rather than scheduled as a countdown.
MAX_COUNTDOWN_SECONDS = 600.0


def _eager() -> bool:
    # Embedded mode runs tasks inline: re-enqueueing from a task would recurse. The sweep continues.
    return bool(settings.CELERY_TASK_ALWAYS_EAGER)


@shared_task(name="crm.sync_organization", ignore_result=True)
def sync_organization(organization_id: int) -> dict[str, object]:
    """Send the organization's due HubSpot items; re-enqueue for what is left, or for the next retry."""
    budget = float(getattr(settings, "CRM_TASK_BUDGET_SECONDS", 20.0))
    run = sync.crm_sync_run(organization_id=organization_id, time_budget=budget)
    if not _eager():
        if run.locked:
            # Another run holds the portal; it may have listed its items before ours were written.
            sync_organization.apply_async((organization_id,), countdown=2.0)
        elif run.more_due:
            sync_organization.apply_async((organization_id,))
        elif run.next_due_at is not None:
            countdown = max(0.0, (run.next_due_at - timezone.now()).total_seconds())
            if countdown <= MAX_COUNTDOWN_SECONDS:
                sync_organization.apply_async((organization_id,), countdown=countdown + 0.05)
    return {"processed": run.processed, "locked": run.locked}


@shared_task(name="crm.sweep", ignore_result=True)
def sweep() -> dict[str, int]:
    """Beat: start sync runs for organizations with due items (a lost enqueue, a retry beyond the countdown
    horizon, a killed worker's lease). Webhook deliveries are the connections app's sweep
    (``connections.deliver_due_webhooks``)."""
    now = timezone.now()
    organizations = list(
        CrmSyncItem.objects.filter(
            status__in=[*CrmSyncItem.WAITING, CrmSyncItem.Status.SENDING],
            organization__hubspot__status=HubSpotConnection.Status.CONNECTED,
        )
        .values("organization_id")
        .annotate(due=Min("next_attempt_at"))
        .filter(due__lte=now)
        .values_list("organization_id", flat=True)
    )
    for organization_id in organizations:
        sync_organization.delay(organization_id)
    return {"organizations": len(organizations)}


@shared_task(name="crm.pull_contact", ignore_result=True)
def pull_contact(organization_id: int, contact_id: int) -> bool:
    return pull.crm_contact_pull(organization_id=organization_id, contact_id=contact_id) is not None


@shared_task(name="crm.pull_stale_contacts", ignore_result=True)
def pull_stale_contacts() -> int:
    """Beat: refresh owner and lifecycle stage of the linked contacts pulled longest ago."""
    stale = pull.stale_contact_links(limit=int(getattr(settings, "CRM_PULL_BATCH", 100)))
    for organization_id, contact_id in stale:
        pull_contact.delay(organization_id, contact_id)
    return len(stale)
