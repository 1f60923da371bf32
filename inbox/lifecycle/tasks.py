"""The daily retention task (beat): every organization with a retention policy, in batches."""

from __future__ import annotations

import logging
import time

from celery import shared_task
from django.conf import settings

from inbox.lifecycle.services import organizations_with_retention, retention_apply
from switchboard.observability import single_instance

logger = logging.getLogger(__name__)


@shared_task(name="lifecycle.apply_retention")
@single_instance("lifecycle.apply_retention", ttl=3600)
def apply_retention() -> dict[str, str]:
    # One time budget for the whole pass (well inside the lock's TTL); what is left waits for tomorrow's run.
    deadline = time.monotonic() + getattr(settings, "LIFECYCLE_TIME_BUDGET_SECONDS", 600)
    results = {}
    for organization in organizations_with_retention().order_by("pk"):
        try:
            run = retention_apply(organization, time_budget=max(0.0, deadline - time.monotonic()))
        except Exception:  # one organization's failure must not stop the others; the run row says "failed"
            logger.exception("retention failed", extra={"organization_id": organization.pk})
            results[str(organization.pk)] = "failed"
        else:
            results[str(organization.pk)] = run.status
    return results
