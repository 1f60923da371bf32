"""The CRM webhook endpoints and their deliveries move into the one outbound-webhook mechanism of the connections
app: each endpoint becomes a ``WebhookSubscription`` of kind ``crm`` (same URL, events, secret, state), each
delivery a ``WebhookDelivery`` with the same event id (receivers deduplicate on it), its last attempt kept as
the first line of the attempt log. The old tables are dropped by the next migration."""

from django.db import migrations

STATUS = {"pending": "pending", "retrying": "pending", "delivered": "delivered", "dead": "failed"}


def forwards(apps, schema_editor):  # noqa: ANN001, ANN201
    Endpoint = apps.get_model("crm", "WebhookEndpoint")
    OldDelivery = apps.get_model("crm", "WebhookDelivery")
    Subscription = apps.get_model("connections", "WebhookSubscription")
    Delivery = apps.get_model("connections", "WebhookDelivery")
    Attempt = apps.get_model("connections", "WebhookAttempt")
    for endpoint in Endpoint.objects.order_by("pk").iterator():
        subscription = Subscription.objects.create(
            kind="crm",
            organization_id=endpoint.organization_id,
            url=endpoint.url,
            events=list(endpoint.event_types or []),
            description=endpoint.description,
            encrypted_secret=endpoint.encrypted_secret,
            secret_hint=endpoint.secret_hint,
            is_active=endpoint.is_active,
            disabled_reason=endpoint.disabled_reason,
            failing_since=endpoint.failing_since,
            created_at=endpoint.created_at,
        )
        for old in OldDelivery.objects.filter(endpoint_id=endpoint.pk).order_by("pk").iterator():
            payload = old.payload if isinstance(old.payload, dict) else {}
            delivery = Delivery.objects.create(
                subscription=subscription,
                event=old.event_type,
                event_id=old.event_id,
                payload=payload.get("data", {}),
                status=STATUS.get(old.status, "failed"),
                attempts=old.attempts,
                next_attempt_at=old.next_attempt_at,
                last_status_code=old.response_status,
                last_error=old.error,
                created_at=old.created_at,
                delivered_at=old.delivered_at,
            )
            if old.attempts:
                Attempt.objects.create(
                    delivery=delivery,
                    attempted_at=old.delivered_at or old.created_at,
                    status_code=old.response_status,
                    error=old.error,
                    response_excerpt=old.response_excerpt,
                    duration_ms=old.duration_ms or 0,
                )


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0001_initial"),
        ("connections", "0004_subscription_organization_required"),
    ]

    # Backwards: the rows stay in the connections tables (the old tables come back empty).
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
