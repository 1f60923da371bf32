"""Advertiser accounts (TikTok Message Event Sets) and message event rules."""

from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from inbox.models import Organization
from signals.models import DEFAULT_EVENT_SOURCE, AdvertiserAccount, MessageEventRule
from switchboard.crypto import decrypt_json, encrypt_json


def access_token(account: AdvertiserAccount) -> str:
    """The decrypted access token (``SecretUnreadable`` when the encryption key changed)."""
    return str(decrypt_json(account.access_token_encrypted).get("access_token", ""))


def advertiser_connect(
    *,
    organization: Organization,
    name: str,
    event_set_id: str,
    access_token: str = "",
    advertiser_id: str = "",
    event_source: str = DEFAULT_EVENT_SOURCE,
    test_event_code: str = "",
    is_sandbox: bool = False,
) -> AdvertiserAccount:
    """Connect an advertiser account's event set. A sandbox account gets a generated token and delivers to the
    built-in sandbox Events API; a real one needs the token TikTok Events Manager shows for the event set."""
    if not event_set_id.strip():
        raise ValidationError(gettext("The event set id is required."))
    if is_sandbox and not access_token:
        access_token = "sandbox-" + secrets.token_urlsafe(16)
    if not access_token:
        raise ValidationError(gettext("The access token of the event set is required."))
    return AdvertiserAccount.objects.create(
        organization=organization,
        name=name.strip() or ("Sandbox advertiser" if is_sandbox else "TikTok advertiser"),
        advertiser_id=advertiser_id.strip(),
        event_set_id=event_set_id.strip(),
        event_source=event_source.strip() or DEFAULT_EVENT_SOURCE,
        access_token_encrypted=encrypt_json({"access_token": access_token}),
        test_event_code=test_event_code.strip(),
        is_sandbox=is_sandbox,
    )


def advertiser_update(
    *, account: AdvertiserAccount, event_set_id: str, event_source: str, test_event_code: str, access_token: str = ""
) -> AdvertiserAccount:
    """Change the event set settings; a new token (if given) reconnects an account that needed it."""
    if not event_set_id.strip():
        raise ValidationError(gettext("The event set id is required."))
    account.event_set_id = event_set_id.strip()
    account.event_source = event_source.strip() or DEFAULT_EVENT_SOURCE
    account.test_event_code = test_event_code.strip()
    fields = ["event_set_id", "event_source", "test_event_code"]
    if access_token:
        account.access_token_encrypted = encrypt_json({"access_token": access_token})
        fields.append("access_token_encrypted")
        if account.status == AdvertiserAccount.Status.NEEDS_RECONNECTION:
            account.status = AdvertiserAccount.Status.CONNECTED
            account.status_reason = ""
            fields += ["status", "status_reason"]
    account.save(update_fields=fields)
    return account


def advertiser_disconnect(*, account: AdvertiserAccount) -> None:
    """Stop delivery at once: the delivery service only claims rows of connected accounts, and checks again
    under lock before posting. Pending rows and the whole history stay."""
    AdvertiserAccount.objects.filter(pk=account.pk).update(
        status=AdvertiserAccount.Status.DISCONNECTED, disconnected_at=timezone.now()
    )


def advertiser_reconnect(*, account: AdvertiserAccount) -> None:
    """Resume delivery (pending rows go out on the next run)."""
    AdvertiserAccount.objects.filter(pk=account.pk).update(
        status=AdvertiserAccount.Status.CONNECTED, status_reason="", connected_at=timezone.now(), disconnected_at=None
    )


def advertiser_attach_grant(
    *,
    organization_id: int,
    grant_id: int,
    advertiser_id: str,
    event_set_id: str,
    access_token_encrypted: str,
) -> AdvertiserAccount:
    """Connect (or re-point) the account an admin picked on the Connections page after TikTok's OAuth.

    Called inside the transaction that stored the grant, so the account and the grant commit together.
    """
    account, _ = AdvertiserAccount.objects.update_or_create(
        organization_id=organization_id,
        grant_id=grant_id,
        defaults={
            "name": f"TikTok advertiser {advertiser_id}",
            "advertiser_id": advertiser_id,
            "event_set_id": event_set_id,
            "access_token_encrypted": access_token_encrypted,
            "status": AdvertiserAccount.Status.CONNECTED,
            "status_reason": "",
            "connected_at": timezone.now(),
            "disconnected_at": None,
            "is_sandbox": False,
        },
    )
    return account


def advertiser_detach_grant(*, organization_id: int, grant_id: int) -> int:
    """The OAuth grant was revoked: stop delivery at once, keep the account's history."""
    return AdvertiserAccount.objects.filter(organization_id=organization_id, grant_id=grant_id).update(
        status=AdvertiserAccount.Status.DISCONNECTED, disconnected_at=timezone.now()
    )


def advertiser_mark_needs_reconnection(*, account_id: int, reason: str) -> None:
    AdvertiserAccount.objects.filter(pk=account_id, status=AdvertiserAccount.Status.CONNECTED).update(
        status=AdvertiserAccount.Status.NEEDS_RECONNECTION, status_reason=reason[:300]
    )


def event_rule_create(
    *, organization: Organization, trigger: str, event_name: str, advertiser_account: AdvertiserAccount, flag: str = ""
) -> MessageEventRule:
    """Map a happening to a TikTok event name for an advertiser account of the same organization."""
    if trigger not in MessageEventRule.Trigger.values:
        raise ValidationError(gettext("Unknown trigger."))
    event_name = event_name.strip()
    if not event_name or len(event_name) > 64:
        raise ValidationError(gettext("The TikTok event name is required (at most 64 characters)."))
    if advertiser_account.organization_id != organization.pk:
        raise ValidationError(gettext("That advertiser account belongs to another organization."))
    try:
        with transaction.atomic():
            return MessageEventRule.objects.create(
                organization=organization,
                trigger=trigger,
                flag=flag.strip()[:64],
                event_name=event_name,
                advertiser_account=advertiser_account,
            )
    except IntegrityError:
        raise ValidationError(gettext("This rule exists already.")) from None


def event_rule_set_enabled(*, organization: Organization, rule_id: int, enabled: bool) -> None:
    MessageEventRule.objects.filter(organization=organization, pk=rule_id).update(enabled=enabled)


def event_rule_delete(*, organization: Organization, rule_id: int) -> None:
    MessageEventRule.objects.filter(organization=organization, pk=rule_id).delete()
