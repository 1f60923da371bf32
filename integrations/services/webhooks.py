"""The inbound path: verify, store, acknowledge; then parse and hand normalized events to the inbox."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.db.models import F
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from inbox.models import Channel
from inbox.services import conversations as conversation_services
from inbox.services import messages as message_services
from integrations.channels.base import (
    AuthorizationRevoked,
    ChannelSecrets,
    ConversationReferral,
    HandshakeRefused,
    Ignored,
    InboundEvent,
    InboundMessage,
    ParseError,
    ReadWatermark,
    SignatureInvalid,
    StatusUpdate,
    WebhookRequest,
)
from integrations.channels.registry import UnknownProvider, adapter_for
from integrations.models import ChannelCredential, InboundWebhook, WebhookRejection
from switchboard.coalesce import Coalescer, at_exit_flush

logger = logging.getLogger(__name__)

# Headers worth keeping with a stored delivery (signatures for audit, never cookies or auth).
KEPT_HEADERS = ("content-type", "user-agent", "x-hub-signature-256", "tiktok-signature", "x-sandbox-signature")


@dataclass(frozen=True)
class WebhookAck:
    status: int
    detail: str
    webhook_id: int | None = None
    duplicate: bool = False


def app_secrets(provider: str) -> ChannelSecrets:
    """The Messaging Partner app's own credentials, used by the app-level endpoint ``/webhooks/<provider>/``."""
    if provider == "tiktok":
        return ChannelSecrets(app_secret=settings.TIKTOK_CLIENT_SECRET)
    if provider in ("whatsapp", "messenger"):
        return ChannelSecrets(app_secret=settings.META_APP_SECRET, verify_token=settings.META_VERIFY_TOKEN)
    return ChannelSecrets()


def _secrets_for(provider: str, channel: Channel | None) -> ChannelSecrets:
    if channel is None:
        return app_secrets(provider)
    credential = getattr(channel, "credential", None)
    return credential.secrets() if credential is not None else ChannelSecrets(account_id=channel.account_id)


def _count_rejection(provider: str, channel_id: int | None, reason: str) -> None:
    day = timezone.now().date()
    bucket, _ = WebhookRejection.objects.get_or_create(
        provider=provider, channel_id=channel_id, reason=reason[:200], day=day
    )
    WebhookRejection.objects.filter(pk=bucket.pk).update(count=F("count") + 1, last_seen_at=timezone.now())


# -- the hot path -----------------------------------------------------------------------------------------------
# Every delivery needs its channel's secrets before anything else. The ORM's select_related get() cost about
# 1.5 ms of CPU per request on this 2-core machine (query compilation), several times the query itself; bench/
# ingest.py showed it as the largest single cost of an acknowledgement. So the lookup is one plain SELECT, and the
# decrypted secrets are kept per process keyed by the stored ciphertext (Fernet tokens are never equal twice, so
# a rotated secret is a new key). Issue 9 (1,000 deliveries/s): the SELECT itself, a round trip and about 50 us of
# CPU, is then skipped for WEBHOOK_SECRETS_TTL_SECONDS per channel and process. A change saved in this process
# (a rotated secret, a disconnected or deleted channel) empties the cache at once (_forget_endpoints); in the
# other processes it takes effect within the TTL.
_SECRETS_CACHE: dict[tuple[int, str, str, str], ChannelSecrets] = {}
_SECRETS_CACHE_SIZE = 1024
_ENDPOINT_CACHE: dict[tuple[str, int, str], tuple[float, ChannelSecrets]] = {}
_clock = time.monotonic


@functools.cache
def _endpoint_sql(vendor: str) -> str:
    channel, credential = Channel._meta, ChannelCredential._meta
    q = connection.ops.quote_name
    pk, account, kind = (
        q(channel.pk.column),
        q(channel.get_field("account_id").column),
        q(channel.get_field("kind").column),
    )
    encrypted, owner = q(credential.get_field("encrypted").column), q(credential.get_field("channel").column)
    # Identifiers come from the models' metadata, quoted; every value is a query parameter.
    sql = f"SELECT c.{account}, k.{encrypted} FROM {q(channel.db_table)} c LEFT JOIN {q(credential.db_table)} k "  # noqa: S608
    return sql + f"ON k.{owner} = c.{pk} WHERE c.{pk} = %s AND c.{kind} = %s"


def channel_secrets(provider: str, channel_id: int) -> ChannelSecrets:
    """The secrets of the channel behind ``/webhooks/<provider>/<channel_id>/`` (read at most once per
    ``WEBHOOK_SECRETS_TTL_SECONDS`` and process, decrypted once per credential version); raises
    ``Channel.DoesNotExist`` for a wrong id or provider (never cached: a new channel is served at once)."""
    key = (provider, channel_id, settings.FIELD_ENCRYPTION_KEY)
    now = _clock()
    cached = _ENDPOINT_CACHE.get(key)
    if cached is not None and cached[0] > now:
        return cached[1]
    secrets = _read_channel_secrets(provider, channel_id)
    if len(_ENDPOINT_CACHE) >= _SECRETS_CACHE_SIZE:
        _ENDPOINT_CACHE.clear()
    _ENDPOINT_CACHE[key] = (now + getattr(settings, "WEBHOOK_SECRETS_TTL_SECONDS", 5.0), secrets)
    return secrets


def _read_channel_secrets(provider: str, channel_id: int) -> ChannelSecrets:
    with connection.cursor() as cursor:
        cursor.execute(_endpoint_sql(connection.vendor), [channel_id, provider])
        row = cursor.fetchone()
    if row is None:
        raise Channel.DoesNotExist(f"no {provider} channel {channel_id}")
    account_id, encrypted = row
    if encrypted is None:
        return ChannelSecrets(account_id=account_id)
    key = (channel_id, account_id, encrypted, settings.FIELD_ENCRYPTION_KEY)
    secrets = _SECRETS_CACHE.get(key)
    if secrets is None:
        # The model's own mapping, on an unsaved instance: one definition of what a credential holds.
        unsaved = ChannelCredential(channel=Channel(pk=channel_id, account_id=account_id), encrypted=encrypted)
        secrets = unsaved.secrets()
        if len(_SECRETS_CACHE) >= _SECRETS_CACHE_SIZE:
            _SECRETS_CACHE.clear()
        _SECRETS_CACHE[key] = secrets
    return secrets


@receiver([post_save, post_delete], sender=Channel, dispatch_uid="webhooks-forget-channel")
@receiver([post_save, post_delete], sender=ChannelCredential, dispatch_uid="webhooks-forget-credential")
def _forget_endpoints(**_: Any) -> None:
    """A cache, not business flow: a channel or credential changed here, so no endpoint is served from memory.
    Again once the change commits, in case another thread read the old row in between."""
    _ENDPOINT_CACHE.clear()
    transaction.on_commit(_ENDPOINT_CACHE.clear)


def _insert_delivery(values: dict[str, Any]) -> int:
    """INSERT one ``InboundWebhook`` and return its id: every concrete field, defaults as the ORM fills them.

    Written as SQL built once per process from the model's fields (so a field added later is still filled by its
    default): ``Model.objects.create()`` spent about 1 ms of CPU compiling the same statement for every delivery.
    Outside a transaction it is a single autocommitted statement (no BEGIN/COMMIT round trips); inside one (a
    caller's, or a test's) it runs in a savepoint so that a duplicate leaves the caller's transaction usable.
    """
    # This thread's connection itself rather than the ``connection`` proxy: each attribute read through the proxy
    # costs a thread-local lookup, and the fields' preparation reads it about twenty times per delivery.
    db = connections[DEFAULT_DB_ALIAS]
    if not db.features.can_return_columns_from_insert:
        return InboundWebhook.objects.create(**values).pk
    params = [
        f.get_db_prep_save(values[f.attname] if f.attname in values else f.get_default(), db) for f in _insert_fields()
    ]
    sql = _insert_sql(db.vendor)
    if db.in_atomic_block:
        with transaction.atomic(), db.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()[0]
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


@functools.cache
def _insert_fields() -> tuple[Any, ...]:
    return tuple(f for f in InboundWebhook._meta.local_concrete_fields if not f.primary_key)


@functools.cache
def _insert_sql(vendor: str) -> str:
    q = connection.ops.quote_name
    meta = InboundWebhook._meta
    columns = ", ".join(q(f.column) for f in _insert_fields())
    marks = ", ".join("%s" for _ in _insert_fields())
    return f"INSERT INTO {q(meta.db_table)} ({columns}) VALUES ({marks}) RETURNING {q(meta.pk.column)}"  # noqa: S608


def webhook_channel(provider: str, channel_id: int | None) -> Channel | None:
    """The channel of a per-channel endpoint; raises ``Channel.DoesNotExist`` for a wrong id or provider."""
    if channel_id is None:
        return None
    return Channel.objects.select_related("credential").get(pk=channel_id, kind=provider)


def webhook_handshake(*, provider: str, channel_id: int | None, request: WebhookRequest) -> tuple[int, str]:
    """Answer a provider's GET subscription handshake: (200, challenge) or (403, reason)."""
    try:
        adapter = adapter_for(provider)
        channel = webhook_channel(provider, channel_id)
    except (UnknownProvider, Channel.DoesNotExist):
        return 404, "unknown webhook endpoint"
    try:
        return 200, adapter.verification_challenge(request, _secrets_for(provider, channel))
    except HandshakeRefused as exc:
        _count_rejection(provider, channel_id, f"handshake: {exc}")
        return 403, str(exc)


def webhook_receive(
    *,
    provider: str,
    channel_id: int | None,
    request: WebhookRequest,
    enqueue: Callable[[int], None] | None = None,
) -> WebhookAck:
    """Verify a delivery on its raw body, store it, and enqueue its processing after commit.

    Answers quickly and never loses an accepted delivery: the row commits before the 200. A delivery whose
    body was already stored (providers retry, at least once) is acknowledged and ignored. A failed signature
    stores nothing but a rejection count; malformed JSON is stored as failed (for admins) and answered 400.
    """
    try:
        adapter = adapter_for(provider)
        secrets = app_secrets(provider) if channel_id is None else channel_secrets(provider, channel_id)
    except (UnknownProvider, Channel.DoesNotExist):
        return WebhookAck(404, "unknown webhook endpoint")
    try:
        adapter.verify_request(request, secrets)
    except SignatureInvalid as exc:
        _count_rejection(provider, channel_id, str(exc))
        return WebhookAck(401 if "missing" in str(exc) else 403, f"signature check failed: {exc}")

    digest = hashlib.sha256(request.body).hexdigest()
    malformed = _json_error(request.body)
    headers = {k: v for k, v in request.headers.items() if k in KEPT_HEADERS}
    if channel_id is None:
        # The unique constraint cannot catch repeats at the app-level endpoint: its rows have no channel, and
        # NULLs are distinct in unique indexes (PostgreSQL and SQLite). Look first; a repeat racing this check
        # is still stored once as a message (messages are unique per channel and provider id).
        existing = InboundWebhook.objects.filter(provider=provider, channel=None, body_sha256=digest).first()
        if existing is not None:
            return WebhookAck(200, "duplicate delivery ignored", existing.pk, duplicate=True)
    try:
        webhook_id = _insert_delivery(
            {
                "provider": provider,
                "channel_id": channel_id,
                "body": request.body,
                "body_sha256": digest,
                "headers": headers,
                "status": InboundWebhook.Status.FAILED if malformed else InboundWebhook.Status.RECEIVED,
                "error": malformed or "",
            }
        )
    except IntegrityError:
        existing = InboundWebhook.objects.filter(provider=provider, channel_id=channel_id, body_sha256=digest).first()
        return WebhookAck(200, "duplicate delivery ignored", existing.pk if existing else None, duplicate=True)
    if malformed:
        return WebhookAck(400, malformed, webhook_id)
    # Stored (committed, or part of the caller's transaction): processing is enqueued once that commits.
    schedule = enqueue or webhook_enqueue_processing
    transaction.on_commit(lambda: schedule(webhook_id))
    return WebhookAck(200, "received", webhook_id)


def _json_error(body: bytes) -> str | None:
    try:
        json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        return f"malformed JSON: {exc}"
    return None


def webhook_enqueue_processing(webhook_id: int) -> None:
    """Enqueue a stored delivery's processing. A broker failure is logged, not raised: the delivery is already
    stored as ``received``, and the ``integrations.sweep_pending`` beat task enqueues it again.

    With a broker, deliveries acknowledged at the same time share one task (:data:`_PROCESSING`): one publish
    instead of one each, the largest cost of an acknowledgement otherwise. Embedded (tasks run in-process) each
    runs at once, as before.
    """
    if current_app.conf.task_always_eager:
        _publish_processing([webhook_id])
    else:
        _PROCESSING.submit(webhook_id)


def _publish_processing(webhook_ids: list[int]) -> None:
    from integrations.tasks import process_inbound, process_inbound_batch

    try:
        if len(webhook_ids) == 1:
            process_inbound.delay(webhook_ids[0])
        else:
            process_inbound_batch.delay(webhook_ids)
    except Exception:
        logger.warning(
            "could not enqueue webhook processing; the sweep will", extra={"webhook_ids": webhook_ids}, exc_info=True
        )


# Small batches: each goes to one worker process, and several processes should share a burst.
# Under sustained traffic a delivery waits up to WEBHOOK_ENQUEUE_LINGER_SECONDS for others to share its publish
# (switchboard/coalesce.py); after the answer was sent, so the provider never waits for it.
_PROCESSING: Coalescer[int] = at_exit_flush(
    Coalescer(
        _publish_processing,
        max_batch=16,
        name="webhook-enqueue",
        linger=getattr(settings, "WEBHOOK_ENQUEUE_LINGER_SECONDS", 0.0),
    )
)


def webhook_process(*, webhook_id: int) -> InboundWebhook:
    """Parse a stored delivery and apply every event it carries, in one transaction.

    Idempotent: a processed delivery is left alone; messages are deduplicated on their provider id anyway.
    A delivery that cannot be parsed or applied is marked failed with the reason and can be replayed.
    """
    with transaction.atomic():
        webhook = InboundWebhook.objects.select_for_update(of=("self",)).select_related("channel").get(pk=webhook_id)
        if webhook.status == InboundWebhook.Status.PROCESSED:
            return webhook
        webhook.attempts += 1
        routed: set[int] = set()
        try:
            with transaction.atomic():
                notes = _apply(webhook, routed)
        except ParseError as exc:
            _mark(webhook, InboundWebhook.Status.FAILED, f"cannot parse: {exc}")
        except Exception as exc:
            logger.exception("webhook processing failed", extra={"webhook_id": webhook.pk})
            _mark(webhook, InboundWebhook.Status.FAILED, f"processing error: {exc.__class__.__name__}: {exc}")
        else:
            webhook.notes = notes
            _mark(webhook, InboundWebhook.Status.PROCESSED, "")
        if routed:
            # Outside the inner savepoint: a delivery that failed half-way is still visible to its channels' admins.
            webhook.routed_channels.add(*routed)
        return webhook


def _mark(webhook: InboundWebhook, status: str, error: str) -> None:
    webhook.status = status
    webhook.error = error[:2000]
    webhook.processed_at = timezone.now()
    webhook.save(update_fields=["status", "error", "notes", "attempts", "processed_at"])


def _apply(webhook: InboundWebhook, routed: set[int]) -> list[dict[str, Any]]:
    """Apply every event; ``routed`` collects the channels an app-level delivery's entries were routed to."""
    adapter = adapter_for(webhook.provider)
    notes: list[dict[str, Any]] = []
    channels: dict[str, Channel | None] = {}
    for event in adapter.parse(bytes(webhook.body)):
        if isinstance(event, Ignored):
            notes.append({"ignored": event.reason, "account_id": event.account_id})
            continue
        channel = webhook.channel
        if channel is None:
            if event.account_id not in channels:
                channels[event.account_id] = Channel.objects.filter(
                    kind=webhook.provider, account_id=event.account_id
                ).first()
            channel = channels[event.account_id]
            if channel is None:
                notes.append({"unknown_account": event.account_id, "reason": "no channel for this account"})
                continue
            routed.add(channel.pk)
        note = _apply_event(channel, event)
        if note:
            notes.append(note)
    return notes


def _apply_event(channel: Channel, event: InboundEvent) -> dict[str, Any] | None:
    if isinstance(event, InboundMessage):
        message_services.message_receive_inbound(
            channel=channel,
            customer_id=event.customer_id,
            customer_name=event.customer_name,
            external_id=event.external_id,
            sent_at=event.sent_at,
            direction=event.direction,
            kind=event.kind,
            text=event.text,
            thread_id=event.thread_id,
            attachments=[_attachment_dict(a) for a in event.attachments],
            metadata=dict(event.metadata),
            referral=_referral_dict(event.referral) if event.referral else None,
            reply_to_external_id=event.reply_to_external_id,
        )
    elif isinstance(event, StatusUpdate):
        updated = message_services.message_apply_status(
            channel=channel, external_id=event.external_id, status=event.status, at=event.at, error=event.error
        )
        if updated is None:
            return {"status_for_unknown_message": event.external_id, "status": event.status}
    elif isinstance(event, ReadWatermark):
        message_services.messages_mark_read_until(channel=channel, customer_id=event.customer_id, up_to=event.up_to)
    elif isinstance(event, AuthorizationRevoked):
        from integrations.services.channels import channel_authorization_revoked

        channel_authorization_revoked(channel=channel, reason=event.reason)
        return {"authorization_removed": event.account_id, "reason": event.reason}
    elif isinstance(event, ConversationReferral):
        conversation_services.conversation_record_referral(
            channel=channel, customer_id=event.customer_id, referral=_referral_dict(event.referral)
        )
    return None


def _attachment_dict(attachment: Any) -> dict[str, Any]:
    return {
        "kind": attachment.kind,
        "media_id": attachment.media_id,
        "url": attachment.url,
        "mime_type": attachment.mime_type,
        "caption": attachment.caption,
        "filename": attachment.filename,
        "data": dict(attachment.data),
    }


def _referral_dict(referral: Any) -> dict[str, Any]:
    return {
        "source": referral.source,
        "ad_id": referral.ad_id,
        "campaign_id": referral.campaign_id,
        "click_id": referral.click_id,
        "ref": referral.ref,
        "data": dict(referral.data),
    }


def webhook_replay(*, webhook_id: int) -> InboundWebhook:
    """Process a failed delivery again (after a fix, or once its channel exists)."""
    InboundWebhook.objects.filter(pk=webhook_id).exclude(status=InboundWebhook.Status.PROCESSED).update(
        status=InboundWebhook.Status.RECEIVED, error=""
    )
    return webhook_process(webhook_id=webhook_id)
