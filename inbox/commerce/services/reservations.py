"""Resources and reservations: hold, confirm, cancel, complete; expire holds; remind once.

No double booking: ``reservation_hold`` locks the resource row (serializing bookings of one resource on every
database), cancels expired holds, checks for an overlapping blocking reservation, and inserts. On PostgreSQL
the exclusion constraint ``reservation_no_overlap`` is the last word: an insert that slips past the check
anyway (a future code path without the lock, a manual insert) fails with ``IntegrityError``, reported as
"just taken".
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from inbox import events
from inbox.commerce import texts
from inbox.commerce.models import ReminderSent, Reservation, Resource
from inbox.commerce.payloads import reservation_as_event_dict
from inbox.commerce.permissions import check_can_manage_catalog, check_can_use_conversation
from inbox.commerce.services import availability
from inbox.commerce.services.notify import SendOutcome, send_to_customer
from inbox.commerce.transitions import check_reservation_transition
from inbox.models import Conversation, Organization

TAKEN = "That time was just booked by someone else: pick another slot."
RESOURCE_FIELDS = (
    "name",
    "kind",
    "capacity",
    "time_zone",
    "slot_minutes",
    "buffer_minutes",
    "opening_hours",
    "blackout_dates",
    "active",
)


def _clean_resource(values: Mapping[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    if "name" in values:
        cleaned["name"] = str(values["name"] or "").strip()[:120]
        if not cleaned["name"]:
            raise ValidationError(gettext("A resource needs a name."))
    if "kind" in values:
        if values["kind"] not in Resource.Kind.values:
            raise ValidationError(
                gettext("kind must be one of: %(value)s.") % {"value": ", ".join(Resource.Kind.values)}
            )
        cleaned["kind"] = values["kind"]
    for key, low, high in (("capacity", 1, 10_000), ("slot_minutes", 5, 24 * 60), ("buffer_minutes", 0, 24 * 60)):
        if key in values:
            try:
                number = int(values[key])
            except (TypeError, ValueError) as exc:
                raise ValidationError(
                    gettext("%(value)s must be a whole number.") % {"value": key.replace("_", " ")}
                ) from exc
            if not low <= number <= high:
                raise ValidationError(
                    gettext("%(value)s must be between %(low)s and %(high)s.")
                    % {"value": key.replace("_", " "), "low": low, "high": high}
                )
            cleaned[key] = number
    if "time_zone" in values:
        cleaned["time_zone"] = availability.validate_time_zone(str(values["time_zone"]))
    if "opening_hours" in values:
        cleaned["opening_hours"] = availability.validate_opening_hours(values["opening_hours"])
    if "blackout_dates" in values:
        cleaned["blackout_dates"] = availability.validate_blackout_dates(values["blackout_dates"])
    if "active" in values:
        cleaned["active"] = bool(values["active"])
    return cleaned


def resource_create(*, user: Any, organization: Organization, values: Mapping[str, Any]) -> Resource:
    """A bookable resource (table, room, staff member, service). Needs a supervisor, admin or owner."""
    check_can_manage_catalog(user, organization)
    cleaned = _clean_resource(values)
    if "name" not in cleaned:
        raise ValidationError(gettext("A resource needs a name."))
    if Resource.objects.filter(organization=organization, name=cleaned["name"]).exists():
        raise ValidationError(gettext("A resource named %(value)s exists already.") % {"value": repr(cleaned["name"])})
    return Resource.objects.create(organization=organization, **cleaned)


def resource_update(*, user: Any, resource: Resource, values: Mapping[str, Any]) -> Resource:
    """Change a resource. Existing bookings keep their times (their blocked range was fixed when booked)."""
    check_can_manage_catalog(user, resource.organization_id)
    cleaned = _clean_resource({k: v for k, v in values.items() if k in RESOURCE_FIELDS})
    if (
        "name" in cleaned
        and Resource.objects.filter(organization_id=resource.organization_id, name=cleaned["name"])
        .exclude(pk=resource.pk)
        .exists()
    ):
        raise ValidationError(gettext("A resource named %(value)s exists already.") % {"value": repr(cleaned["name"])})
    for key, value in cleaned.items():
        setattr(resource, key, value)
    resource.save()
    return resource


def _publish(name: str, reservation: Reservation) -> None:
    events.publish(
        name, organization_id=reservation.organization_id, reservation=reservation_as_event_dict(reservation)
    )


def _expire_holds(*, resource_id: int | None = None, now: datetime) -> int:
    stale = (
        Reservation.objects.select_for_update()
        .select_related("resource")
        .filter(status=Reservation.Status.HELD, hold_expires_at__lte=now)
    )
    if resource_id is not None:
        stale = stale.filter(resource_id=resource_id)
    count = 0
    for reservation in stale.order_by("pk"):
        reservation.status = Reservation.Status.CANCELLED
        reservation.cancel_reason = "hold expired"
        reservation.updated_at = now
        reservation.save(update_fields=["status", "cancel_reason", "updated_at"])
        _publish("reservation.updated", reservation)
        count += 1
    return count


def reservation_hold(
    *,
    user: Any,
    conversation: Conversation,
    resource: Resource,
    starts_at: datetime,
    party_size: int = 1,
    duration_minutes: int | None = None,
    notes: str = "",
    confirm: bool = False,
) -> tuple[Reservation, SendOutcome | None]:
    """Hold ``resource`` from ``starts_at`` for the conversation's contact, for ``COMMERCE_HOLD_MINUTES``
    (``confirm=True`` books it confirmed at once). Refuses closed times, too large parties, and times taken —
    exactly one of two concurrent requests for the same time wins. Publishes ``reservation.created``."""
    check_can_use_conversation(user, conversation)
    if resource.organization_id != conversation.organization_id or not resource.active:
        raise ValidationError(gettext("No such resource."))
    try:
        party_size = int(party_size)
    except (TypeError, ValueError) as exc:
        raise ValidationError(gettext("Party size must be a whole number.")) from exc
    if not 1 <= party_size <= resource.capacity:
        raise ValidationError(
            gettext("%(name)s takes parties of 1 to %(capacity)s.")
            % {"name": resource.name, "capacity": resource.capacity}
        )
    minutes = int(duration_minutes or resource.slot_minutes)
    if not 5 <= minutes <= 24 * 60:
        raise ValidationError(gettext("A booking lasts 5 minutes to 24 hours."))
    ends_at = starts_at + timedelta(minutes=minutes)
    now = timezone.now()
    availability.check_bookable(resource=resource, starts_at=starts_at, ends_at=ends_at, now=now)
    blocked_until = ends_at + timedelta(minutes=resource.buffer_minutes)
    with transaction.atomic():
        # The lock row: bookings of one resource are serialized here, on SQLite as on PostgreSQL.
        resource = Resource.objects.select_for_update().get(pk=resource.pk)
        _expire_holds(resource_id=resource.pk, now=now)
        if availability.blocking_reservations(resource, starts_at, blocked_until, now=now).exists():
            raise ValidationError(TAKEN)
        try:
            with transaction.atomic():
                reservation = Reservation.objects.create(
                    organization_id=resource.organization_id,
                    resource=resource,
                    conversation=conversation,
                    contact_id=conversation.contact_id,
                    channel_id=conversation.channel_id,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    blocked_until=blocked_until,
                    party_size=party_size,
                    notes=notes.strip()[:2000],
                    status=Reservation.Status.HELD,
                    created_by=user,
                    hold_expires_at=now + timedelta(minutes=settings.COMMERCE_HOLD_MINUTES),
                )
        except IntegrityError as exc:
            raise ValidationError(TAKEN) from exc
        _publish("reservation.created", reservation)
        outcome = _confirm(reservation, now=now) if confirm else None
    return reservation, outcome


def _locked(reservation: Reservation) -> Reservation:
    return (
        Reservation.objects.select_for_update(of=("self",))
        .select_related("resource", "conversation")
        .get(pk=reservation.pk)
    )


def _notify(reservation: Reservation, text: str, kind: str) -> SendOutcome:
    return send_to_customer(
        conversation=reservation.conversation,
        text=text,
        commerce={"reservation_id": reservation.pk, "kind": kind},
    )


def _confirm(reservation: Reservation, *, now: datetime) -> SendOutcome:
    check_reservation_transition(reservation.status, Reservation.Status.CONFIRMED)
    if reservation.hold_expires_at and reservation.hold_expires_at <= now:
        raise ValidationError(gettext("The hold has expired: book the time again."))
    reservation.status = Reservation.Status.CONFIRMED
    reservation.hold_expires_at = None
    reservation.updated_at = now
    reservation.save(update_fields=["status", "hold_expires_at", "updated_at"])
    _publish("reservation.confirmed", reservation)
    return _notify(reservation, texts.reservation_confirmed(reservation), "reservation_confirmed")


def reservation_confirm(*, user: Any, reservation: Reservation) -> tuple[Reservation, SendOutcome]:
    """Confirm a held reservation (before its hold expires) and send the confirmation with the .ics link."""
    check_can_use_conversation(user, reservation.conversation)
    with transaction.atomic():
        reservation = _locked(reservation)
        outcome = _confirm(reservation, now=timezone.now())
    return reservation, outcome


def reservation_transition(
    *, user: Any, reservation: Reservation, to: str, reason: str = ""
) -> tuple[Reservation, SendOutcome | None]:
    """Move a reservation: ``confirmed`` (see ``reservation_confirm``), ``cancelled`` (tells the customer when it
    was confirmed), ``completed`` / ``no_show`` (only once it has started)."""
    check_can_use_conversation(user, reservation.conversation)
    if to == Reservation.Status.CONFIRMED:
        return reservation_confirm(user=user, reservation=reservation)
    now = timezone.now()
    with transaction.atomic():
        reservation = _locked(reservation)
        check_reservation_transition(reservation.status, to)
        if to in (Reservation.Status.COMPLETED, Reservation.Status.NO_SHOW) and reservation.starts_at > now:
            raise ValidationError(gettext("A booking can be marked completed or no-show only once it has started."))
        was = reservation.status
        reservation.status = to
        reservation.updated_at = now
        if to == Reservation.Status.CANCELLED:
            reservation.cancel_reason = (reason or "cancelled by the business").strip()[:200]
        reservation.save(update_fields=["status", "updated_at", "cancel_reason"])
        _publish("reservation.updated", reservation)
        outcome = None
        if to == Reservation.Status.CANCELLED and was == Reservation.Status.CONFIRMED:
            outcome = _notify(reservation, texts.reservation_cancelled(reservation), "reservation_cancelled")
    return reservation, outcome


def reservation_propose_slots(
    *, user: Any, conversation: Conversation, resource: Resource, slots: list[availability.Slot]
) -> SendOutcome:
    """Send the customer a numbered list of free times."""
    check_can_use_conversation(user, conversation)
    if not slots:
        raise ValidationError(gettext("Pick at least one free time to propose."))
    text = texts.slots_proposal(resource.name, [slot.label for slot in slots[:10]])
    return send_to_customer(
        conversation=conversation, text=text, commerce={"resource_id": resource.pk, "kind": "slots_proposal"}
    )


def reservations_expire_holds(*, now: datetime | None = None) -> int:
    """Cancel every hold past its expiry (beat task). Returns how many."""
    with transaction.atomic():
        return _expire_holds(now=now or timezone.now())


def reminder_leads() -> dict[str, timedelta]:
    return {kind: timedelta(minutes=m) for kind, m in settings.COMMERCE_RESERVATION_REMINDERS.items()}


def reservations_send_reminders(*, now: datetime | None = None) -> int:
    """Send each due reminder exactly once (beat task). A reminder of kind K (lead time L) is due for a confirmed
    reservation starting within L from now that was booked more than L before its start.

    The claim (a ``ReminderSent`` row, unique per reservation and kind) and the queued message commit together:
    a crash before the commit leaves nothing claimed and the next run retries; a concurrent run blocks on the
    unique index and then skips. The queued message is delivered by the outbound task (and its sweep)."""
    now = now or timezone.now()
    sent = 0
    for kind, lead in reminder_leads().items():
        due = (
            Reservation.objects.filter(
                status=Reservation.Status.CONFIRMED,
                starts_at__gt=now,
                starts_at__lte=now + lead,
            )
            .exclude(reminders__kind=kind)
            .values_list("pk", "starts_at", "created_at")
        )
        for pk, starts_at, created_at in list(due):
            if created_at > starts_at - lead:
                continue  # booked inside this lead time: the confirmation itself is the reminder
            sent += _send_reminder(reservation_id=pk, kind=kind)
    return sent


def _send_reminder(*, reservation_id: int, kind: str) -> int:
    try:
        with transaction.atomic():
            claim = ReminderSent.objects.create(reservation_id=reservation_id, kind=kind)
            reservation = _locked(Reservation(pk=reservation_id))
            if reservation.status != Reservation.Status.CONFIRMED:
                claim.skipped_reason = f"reservation is {reservation.status}"
                claim.save(update_fields=["skipped_reason"])
                return 0
            outcome = _notify(reservation, texts.reservation_reminder(reservation), f"reminder_{kind}")
            claim.message_id = outcome.message_id
            claim.skipped_reason = "" if outcome.sent else outcome.reason[:300]
            claim.save(update_fields=["message_id", "skipped_reason"])
            return int(outcome.sent)
    except IntegrityError:
        return 0  # another run claimed it first
