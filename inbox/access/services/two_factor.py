"""Two-factor authentication (TOTP) and login lockouts, on django-otp and django-axes.

* Enrolment: ``totp_enrol_start`` makes an unconfirmed authenticator device (its secret shown once as a QR code
  and as text); ``totp_enrol_confirm`` confirms it with a code from the app and hands out ten single-use backup
  codes. Only a confirmed device makes the login ask for a code.
* Login: the password alone never logs in an enrolled user (``inbox.access.login``); ``two_factor_verify``
  accepts a current TOTP code or an unused backup code (django-otp throttles guesses per device).
* Recovery: the member uses a backup code, or a manager resets their 2FA (``two_factor_reset``: the owner for
  admins, an admin or owner for everyone else; never oneself), audited.
* Lockouts from django-axes are written to the audit log of each organization the username belongs to.
"""

from __future__ import annotations

import base64
import re
from datetime import timedelta
from typing import Any

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from inbox.access.models import AuditLog
from inbox.access.services import members
from inbox.access.services.audit import audit_record
from inbox.models import Membership

BACKUP_CODE_COUNT = 10
TOTP_DEVICE_NAME = "Authenticator app"
BACKUP_DEVICE_NAME = "Backup codes"


def _audit_everywhere(*, user: Any, actor: Any, action: str, ip: str | None, details: dict | None = None) -> None:
    """One audit row per organization the user is an active member of (2FA belongs to the person, not one org)."""
    for membership in Membership.objects.filter(user=user, is_active=True):
        audit_record(
            organization_id=membership.organization_id,
            actor=actor,
            action=action,
            target_type="member",
            target_id=membership.pk,
            target_label=user.get_username(),
            details=details,
            ip=ip,
        )


def has_two_factor(user: Any) -> bool:
    """Whether the login must ask this user for a code (a confirmed authenticator device exists)."""
    return bool(user and user.pk) and TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def users_with_two_factor(*, organization_id: int) -> set[int]:
    """Ids of the organization's members who turned 2FA on (the members page offers them a reset)."""
    members_of = Membership.objects.filter(organization_id=organization_id).values("user_id")
    return set(TOTPDevice.objects.filter(confirmed=True, user_id__in=members_of).values_list("user_id", flat=True))


def backup_codes_left(user: Any) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


@transaction.atomic
def totp_enrol_start(*, user: Any) -> TOTPDevice:
    """A fresh unconfirmed authenticator device (replacing an earlier unfinished one). The user is not enrolled
    until ``totp_enrol_confirm``."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)


def pending_enrolment(user: Any) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()


def totp_secret_base32(device: TOTPDevice) -> str:
    """The secret as authenticator apps take it typed in (the same as in the QR code)."""
    return base64.b32encode(device.bin_key).decode("ascii").rstrip("=")


def qr_svg(uri: str) -> str:
    """An ``otpauth://`` URI as an inline SVG (a path, no inline style, so the page's CSP holds)."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathFillImage, box_size=16, border=2)
    return image.to_string(encoding="unicode")


def normalize_code(code: str) -> str:
    """Codes are typed with spaces or dashes ("123 456", "abcd-efgh"): keep only letters and digits."""
    return re.sub(r"[^0-9A-Za-z]", "", code or "").lower()[:32]


@transaction.atomic
def totp_enrol_confirm(*, user: Any, code: str, ip: str | None = None) -> list[str]:
    """Confirm the pending authenticator with a current code; returns fresh backup codes (shown once).

    Raises ``ValueError`` with a readable reason when there is nothing to confirm or the code is wrong.
    """
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        raise ValueError(gettext("Start again: there is no authenticator waiting to be confirmed."))
    if not device.verify_token(normalize_code(code)):
        raise ValueError(gettext("That code is not right. Check the time on your phone and try the newest code."))
    TOTPDevice.objects.filter(user=user, confirmed=True).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _new_backup_codes(user)
    _audit_everywhere(user=user, actor=user, action="security.2fa_enabled", ip=ip)
    return codes


def _new_backup_codes(user: Any) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=BACKUP_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


@transaction.atomic
def backup_codes_regenerate(*, user: Any, ip: str | None = None) -> list[str]:
    """New backup codes for an enrolled user; the old ones stop working."""
    if not has_two_factor(user):
        raise ValueError(gettext("Turn on two-factor authentication first."))
    codes = _new_backup_codes(user)
    _audit_everywhere(user=user, actor=user, action="security.backup_codes_renewed", ip=ip)
    return codes


def two_factor_verify(*, user: Any, code: str) -> Any | None:
    """The device that accepts ``code`` (authenticator first, then a backup code, which is used up), or None."""
    token = normalize_code(code)
    if not token:
        return None
    for device in TOTPDevice.objects.filter(user=user, confirmed=True):
        if token.isdigit() and device.verify_token(token):
            return device
    for device in StaticDevice.objects.filter(user=user, confirmed=True):
        if device.verify_token(token):
            return device
    return None


@transaction.atomic
def two_factor_disable(*, user: Any, ip: str | None = None) -> None:
    """The user turns their own 2FA off (the page asks for a current code first)."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    _audit_everywhere(user=user, actor=user, action="security.2fa_disabled", ip=ip)


@transaction.atomic
def two_factor_reset(*, actor: Any, membership: Membership, ip: str | None = None) -> None:
    """A manager turns off a member's 2FA (lost phone and backup codes). Same rules as any change to a member:
    ``manage_members``, never oneself, only the owner for an admin, nobody for the owner (backup codes)."""
    members._check_manager(actor, membership)
    TOTPDevice.objects.filter(user_id=membership.user_id).delete()
    StaticDevice.objects.filter(user_id=membership.user_id).delete()
    audit_record(
        organization_id=membership.organization_id,
        actor=actor,
        action="security.2fa_reset",
        target_type="member",
        target_id=membership.pk,
        target_label=membership.user.get_username(),
        ip=ip,
    )


def login_lockout_record(*, username: str, ip: str | None) -> int:
    """Audit a lockout in each organization ``username`` belongs to, once per cool-off (axes reports it on every
    refused try). Returns how many rows were written."""
    if not username:
        return 0
    since = timezone.now() - getattr(settings, "AXES_COOLOFF_TIME", timedelta(minutes=15))
    written = 0
    memberships = Membership.objects.filter(user__username__iexact=username).select_related("user")
    for membership in memberships:
        already = AuditLog.objects.filter(
            organization_id=membership.organization_id,
            action="security.login_locked_out",
            target_id=str(membership.pk),
            ip=ip,
            created_at__gte=since,
        ).exists()
        if already:
            continue
        audit_record(
            organization_id=membership.organization_id,
            actor=None,
            action="security.login_locked_out",
            target_type="member",
            target_id=membership.pk,
            target_label=membership.user.get_username(),
            details={"failure_limit": getattr(settings, "AXES_FAILURE_LIMIT", 0)},
            ip=ip,
        )
        written += 1
    return written
