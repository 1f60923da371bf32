"""Celery entry points: each takes ids, calls a service. Beat runs the two sweeps every minute."""

from __future__ import annotations

from celery import shared_task

from inbox.commerce.services import catalog, reservations


@shared_task(name="commerce.catalog_import", autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def catalog_import(import_id: int) -> None:
    catalog.catalog_import_run(import_id=import_id)


@shared_task(name="commerce.expire_holds")
def expire_holds() -> int:
    return reservations.reservations_expire_holds()


@shared_task(name="commerce.send_reminders")
def send_reminders() -> int:
    return reservations.reservations_send_reminders()
